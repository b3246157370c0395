/**
 * ResNets. CIFAR ResNet-20 (He et al. 2016, section 4.2): 3x3 stem of 16 channels, three
 * stages of 3 basic blocks (16, 32, 64 channels), parameter-free "option A" shortcuts
 * (subsample by 2, zero-pad the new channels). ImageNet ResNet-18 / -50 (torchvision
 * layout): 7x7/2 stem, 3x3/2 max pool, four stages of basic or bottleneck blocks with
 * the stride on the 3x3 convolution, 1x1 conv + BN projection shortcuts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNorm, conv, dense, globalAveragePool, ParamTable, relu, type Layer } from './layers';
import type { Architecture } from './network';

/**
 * x[:, ::2, ::2, :] as a 1x1 depthwise convolution with unit weights and stride 2: it has
 * a gradient (strided slice has none) and runs in milliseconds on wasm, where a 6-D
 * reshape-and-slice formulation takes hundreds.
 */
function subsample2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.depthwiseConv2d(x, tf.ones([1, 1, x.shape[3], 1]) as tf.Tensor4D, 2, 'valid'));
}

export function cifarResNet(depth: number, inChannels: number, numClasses: number, affine: boolean): Architecture {
  if ((depth - 2) % 6 !== 0 || depth < 8) throw new Error(`CIFAR ResNet depth must be 6n + 2 (8, 14, 20, 32, ...), got ${depth}`);
  const blocksPerStage = (depth - 2) / 6;
  const table = new ParamTable();
  const stem = conv(table, 'stem', 3, inChannels, 16);
  const stemBn = batchNorm(table, 'stem/bn', 16, affine);
  const blocks: Layer[] = [];
  let channels = 16;
  for (let s = 0; s < 3; s++) {
    const out = 16 << s;
    for (let b = 0; b < blocksPerStage; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const name = `stage${s + 1}/block${b + 1}`;
      const conv1 = conv(table, `${name}/conv1`, 3, channels, out, stride);
      const bn1 = batchNorm(table, `${name}/bn1`, out, affine);
      const conv2 = conv(table, `${name}/conv2`, 3, out, out);
      const bn2 = batchNorm(table, `${name}/bn2`, out, affine);
      const extra = out - channels;
      blocks.push((ctx, x) => {
        const y = bn2(ctx, conv2(ctx, relu(bn1(ctx, conv1(ctx, x)))));
        let shortcut = stride === 2 ? subsample2(x) : x;
        if (extra > 0) shortcut = tf.pad(shortcut, [[0, 0], [0, 0], [0, 0], [extra >> 1, extra - (extra >> 1)]]);
        return relu(tf.add(y, shortcut));
      });
      channels = out;
    }
  }
  const fc = dense(table, 'fc', channels, numClasses);
  return {
    table,
    forward: (ctx, x) => {
      let h = relu(stemBn(ctx, stem(ctx, x)));
      for (const block of blocks) h = block(ctx, h);
      return fc(ctx, globalAveragePool(h));
    },
  };
}

export function imageNetResNet(kind: 'basic' | 'bottleneck', stageBlocks: readonly number[], inChannels: number, numClasses: number, affine: boolean): Architecture {
  const expansion = kind === 'bottleneck' ? 4 : 1;
  const table = new ParamTable();
  const stem = conv(table, 'stem', 7, inChannels, 64, 2);
  const stemBn = batchNorm(table, 'stem/bn', 64, affine);
  const blocks: Layer[] = [];
  let channels = 64;
  stageBlocks.forEach((count, s) => {
    const width = 64 << s;
    const out = width * expansion;
    for (let b = 0; b < count; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const name = `stage${s + 1}/block${b + 1}`;
      const body: Layer[] = [];
      if (kind === 'basic') {
        const c1 = conv(table, `${name}/conv1`, 3, channels, width, stride);
        const n1 = batchNorm(table, `${name}/bn1`, width, affine);
        const c2 = conv(table, `${name}/conv2`, 3, width, width);
        const n2 = batchNorm(table, `${name}/bn2`, width, affine);
        body.push((ctx, x) => n2(ctx, c2(ctx, relu(n1(ctx, c1(ctx, x))))));
      } else {
        const c1 = conv(table, `${name}/conv1`, 1, channels, width);
        const n1 = batchNorm(table, `${name}/bn1`, width, affine);
        const c2 = conv(table, `${name}/conv2`, 3, width, width, stride);
        const n2 = batchNorm(table, `${name}/bn2`, width, affine);
        const c3 = conv(table, `${name}/conv3`, 1, width, out);
        const n3 = batchNorm(table, `${name}/bn3`, out, affine);
        body.push((ctx, x) => n3(ctx, c3(ctx, relu(n2(ctx, c2(ctx, relu(n1(ctx, c1(ctx, x)))))))));
      }
      let projection: Layer | undefined;
      if (stride !== 1 || channels !== out) {
        const pc = conv(table, `${name}/downsample`, 1, channels, out, stride);
        const pn = batchNorm(table, `${name}/downsample/bn`, out, affine);
        projection = (ctx, x) => pn(ctx, pc(ctx, x));
      }
      blocks.push((ctx, x) => relu(tf.add(body[0]!(ctx, x), projection ? projection(ctx, x) : x)));
      channels = out;
    }
  });
  const fc = dense(table, 'fc', channels, numClasses);
  return {
    table,
    forward: (ctx, x) => {
      let h = relu(stemBn(ctx, stem(ctx, x)));
      // PyTorch's MaxPool2d(3, 2, padding=1): numeric pad 1 on both sides.
      h = tf.maxPool(h, 3, 2, 1);
      for (const block of blocks) h = block(ctx, h);
      return fc(ctx, globalAveragePool(h));
    },
  };
}
