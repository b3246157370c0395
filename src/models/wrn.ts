/**
 * Wide ResNet WRN-d-k (Zagoruyko & Komodakis 2016), CIFAR layout: a 3x3 stem of 16
 * channels, three groups of (d - 4) / 6 pre-activation basic blocks of 16k, 32k, 64k
 * channels (strides 1, 2, 2), a final BN-ReLU, global average pooling, a linear layer.
 * A 1x1 convolution on the activated input is the shortcut when widths differ. With a
 * dropout rate, dropout sits between a block's two convolutions (after BN-ReLU), as in
 * the official DRA search model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNorm, conv, dense, dropout, globalAveragePool, ParamTable, relu, type Layer } from './layers';
import type { Architecture } from './network';

export function wideResNet(depth: number, widen: number, inChannels: number, numClasses: number, affine: boolean, dropoutRate = 0): Architecture {
  if ((depth - 4) % 6 !== 0 || depth < 10) throw new Error(`WRN depth must be 6n + 4 (10, 16, 22, 28, 40, ...), got ${depth}`);
  const blocksPerGroup = (depth - 4) / 6;
  const widths = [16, 16 * widen, 32 * widen, 64 * widen];
  const table = new ParamTable();
  const stem = conv(table, 'stem', 3, inChannels, widths[0]!);
  const blocks: Layer[] = [];
  let channels = widths[0]!;
  for (let g = 0; g < 3; g++) {
    for (let b = 0; b < blocksPerGroup; b++) {
      const out = widths[g + 1]!;
      const stride = b === 0 && g > 0 ? 2 : 1;
      const name = `group${g + 1}/block${b + 1}`;
      const bn1 = batchNorm(table, `${name}/bn1`, channels, affine);
      const conv1 = conv(table, `${name}/conv1`, 3, channels, out, stride);
      const bn2 = batchNorm(table, `${name}/bn2`, out, affine);
      const conv2 = conv(table, `${name}/conv2`, 3, out, out);
      const shortcut = channels !== out ? conv(table, `${name}/shortcut`, 1, channels, out, stride) : undefined;
      blocks.push((ctx, x) => {
        const o1 = relu(bn1(ctx, x));
        const y = conv2(ctx, dropout(ctx, relu(bn2(ctx, conv1(ctx, o1))), dropoutRate));
        return tf.add(y, shortcut ? shortcut(ctx, o1) : x);
      });
      channels = out;
    }
  }
  const bnFinal = batchNorm(table, 'final/bn', channels, affine);
  const fc = dense(table, 'fc', channels, numClasses);
  return {
    table,
    forward: (ctx, x) => {
      let h = stem(ctx, x);
      for (const block of blocks) h = block(ctx, h);
      return fc(ctx, globalAveragePool(relu(bnFinal(ctx, h))));
    },
  };
}
