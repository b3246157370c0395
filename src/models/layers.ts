/**
 * Building blocks of the functional models: a parameter table that can be counted
 * without allocating anything, and the layers (convolution, BatchNorm, dense) as
 * closures over indices into that table.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_KERNELS } from '../backend/onednn';
import { hasHostKernel, registerHostKernels, runKernel, runOnHost } from '../engine/host-kernels';
import '../engine/gradients';
import type { StateUpdate } from './types';
import { Rng } from '../util/rng';

/** How a parameter starts. */
export type Init =
  /** He normal over fan-out (kh*kw*out), as torchvision's ResNets and the WRN code. */
  | 'he-fan-out'
  /** Normal with std 1/sqrt(fan-in): keeps logits at unit scale. */
  | 'dense'
  | 'zeros'
  | 'ones';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
  trainable: boolean;
}

/** The parameter table of one network, filled by the layer constructors below. */
export class ParamTable {
  readonly specs: ParamSpec[] = [];

  add(name: string, shape: number[], init: Init, trainable = true): number {
    this.specs.push({ name, shape, init, trainable });
    return this.specs.length - 1;
  }

  /** Number of trainable scalars. */
  trainableCount(): number {
    return this.specs.filter((s) => s.trainable).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  }
}

/** What a forward pass needs besides its input. */
export interface ForwardContext {
  /** One variable per ParamTable entry, same order. */
  params: readonly tf.Variable[];
  training: boolean;
  stateUpdates: StateUpdate[] | undefined;
  /** Seeds of dropout masks; dropout is off without it or outside training. */
  dropoutSeeds?: { nextUint32(): number } | undefined;
}

/** The host kernel that writes a dropout mask straight into a backend's memory (cpu, wasm). */
export const DROPOUT_MASK = 'DraDropoutMask';

registerHostKernels([{
  kernelName: DROPOUT_MASK,
  // No inputs: attrs shape, rate and seed. On wasm the mask is written in the heap, with
  // no JavaScript array to allocate (fresh 40 MB a step cost page faults) or copy.
  kernelFunc: ({ backend, attrs }) => {
    const { shape, rate, seed } = attrs as unknown as { shape: number[]; rate: number; seed: number };
    return runOnHost(backend, [], [{ shape }], (_, [mask]) => void new Rng(seed).fillDropoutMask(mask as Float32Array, rate))[0]!;
  },
}]);

/**
 * Inverted dropout: zeroes each activation with probability `rate` and scales the rest
 * by 1 / (1 - rate), in training mode with a seed source; the identity otherwise. The
 * mask is drawn by dralab's generator from a seed drawn from the caller's, so the same
 * seeds give the same masks on every backend (a host kernel where the backend has one,
 * else an uploaded array). tf.randomUniform also draws on the host, with a generator
 * about 50x slower: 60 ms of a WRN-16-2 search step.
 */
export function dropout(ctx: ForwardContext, x: tf.Tensor4D, rate: number): tf.Tensor4D {
  if (!(rate > 0) || !ctx.training || !ctx.dropoutSeeds) return x;
  const seed = ctx.dropoutSeeds.nextUint32();
  const mask = hasHostKernel(DROPOUT_MASK)
    ? runKernel<tf.Tensor4D>(DROPOUT_MASK, {}, { shape: x.shape, rate, seed } as unknown as tf.NamedAttrMap)
    : tf.tensor4d(new Rng(seed).fillDropoutMask(new Float32Array(x.size), rate), x.shape);
  return tf.mul(x, mask) as tf.Tensor4D;
}

export type Layer = (ctx: ForwardContext, x: tf.Tensor4D) => tf.Tensor4D;

let modelCounter = 0;

/** Allocates the table's variables with a seeded initialisation (same seed, same weights). */
export function allocate(table: ParamTable, prefix: string, seed: number): tf.Variable[] {
  const rng = new Rng(seed);
  const id = `${prefix}#${modelCounter++}`;
  return table.specs.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (spec.init === 'zeros') values = new Float32Array(size);
    else if (spec.init === 'ones') values = new Float32Array(size).fill(1);
    else if (spec.init === 'he-fan-out') {
      const [kh, kw, , out] = spec.shape as [number, number, number, number];
      values = rng.normal(size, 0, Math.sqrt(2 / (kh * kw * out)));
    } else {
      values = rng.normal(size, 0, 1 / Math.sqrt(spec.shape[0]!));
    }
    // Variables are not owned by tidy scopes; the initial tensor is.
    return tf.tidy(() => tf.variable(tf.tensor(values, spec.shape), spec.trainable, `${id}/${spec.name}`));
  });
}

/** A k x k convolution without bias, zero padding floor(k/2) on each side as in PyTorch. */
export function conv(table: ParamTable, name: string, k: number, inChannels: number, outChannels: number, stride = 1): Layer {
  const index = table.add(`${name}/kernel`, [k, k, inChannels, outChannels], 'he-fan-out');
  const p = Math.floor(k / 2);
  // 'same' equals symmetric padding only at stride 1; strided convs pad explicitly to
  // stay identical to the PyTorch networks the published figures come from.
  const pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] =
    p === 0 ? 'valid' : stride === 1 ? 'same' : [[0, 0], [p, p], [p, p], [0, 0]];
  return (ctx, x) => tf.conv2d(x, ctx.params[index] as tf.Variable<tf.Rank.R4>, stride, pad);
}

export const BN_EPSILON = 1e-5;
/** PyTorch's convention: running = (1 - momentum) running + momentum batch. */
export const BN_MOMENTUM = 0.1;

/**
 * Per-channel mean over N, H, W as a [C] vector: a global average pool per image, then a
 * mean over the (small) batch axis. On wasm this is about 1.5x the cost of one
 * elementwise op, where Mean over axes [0, 1, 2] first transposes the whole tensor.
 */
function channelMean(x: tf.Tensor4D): tf.Tensor1D {
  const [n, h, w, c] = x.shape;
  return tf.mean(tf.reshape(tf.avgPool(x, [h, w], 1, 'valid'), [n, c]), 0) as tf.Tensor1D;
}

/**
 * op(x, v) with a per-channel vector v, on x viewed as [N*H, W*C] rows against v tiled
 * W times. On wasm broadcasting a C-vector over [N, H, W, C] runs 3-6x slower than a
 * plain elementwise op when C is small; against a row of W*C values it runs as fast as
 * one (and unlike a 1x1 depthwise convolution, NaN stays NaN).
 */
function perChannel(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, x: tf.Tensor4D, v: tf.Tensor1D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  // v repeated w times by broadcasting against zeros: wasm's Tile costs about 50 us a
  // call (it marshals its shape arrays through the heap), a small broadcast add 7 us.
  const row = tf.reshape(tf.add(tf.zeros([w, c]), v), [w * c]);
  return tf.reshape(op(tf.reshape(x, [n * h, w * c]), row), x.shape);
}

/** x * scale + shift per channel. */
function scaleShift(x: tf.Tensor4D, scale: tf.Tensor1D, shift?: tf.Tensor1D): tf.Tensor4D {
  const scaled = perChannel(tf.mul, x, scale);
  return shift ? perChannel(tf.add, scaled, shift) : scaled;
}

/**
 * Training-mode batch normalisation over N, H, W with a closed-form backward pass. With
 * xc = x - mean, r = rsqrt(var + eps), s = gamma r and a = mean(dy xc):
 * dx = s dy - s mean(dy) - s r^2 a xc, dgamma = count r a, dbeta = count mean(dy).
 * tfjs's own FusedBatchNorm gradient tiles the variance to the full input size and
 * routes through the mean/variance graph; this one is a few per-channel scale and shift
 * passes and three reductions.
 */
function batchNormTraining(x: tf.Tensor4D, gamma: tf.Tensor1D | undefined, beta: tf.Tensor1D | undefined, onMoments: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void): tf.Tensor4D {
  // The kernel pair counts as a host kernel: off with the others (setHostKernelsEnabled),
  // as on the backends that lack it.
  if (x.size > 0 && hasHostKernel(BATCH_NORM_KERNELS.forward)) return batchNormTrainingKernels(x, gamma, beta, onMoments);
  const inputs: tf.Tensor[] = gamma && beta ? [x, gamma, beta] : [x];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xIn = args[0] as tf.Tensor4D;
    const mean = channelMean(xIn);
    const centred = perChannel(tf.sub, xIn, mean);
    const variance = channelMean(tf.square(centred) as tf.Tensor4D);
    onMoments(mean, variance);
    const rstd = tf.rsqrt(tf.add(variance, BN_EPSILON)) as tf.Tensor1D;
    const g = inputs.length === 3 ? (args[1] as tf.Tensor1D) : undefined;
    const value = scaleShift(centred, g ? tf.mul(rstd, g) : rstd, g ? (args[2] as tf.Tensor1D) : undefined);
    save(g ? [centred, rstd, g] : [centred, rstd]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xc, r, gm] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D | undefined];
        const dy4 = dy as tf.Tensor4D;
        const meanDy = channelMean(dy4);
        const meanDyXc = channelMean(tf.mul(dy4, xc) as tf.Tensor4D);
        const scale = (gm ? tf.mul(r, gm) : r) as tf.Tensor1D;
        const dyPart = scaleShift(dy4, scale, tf.neg(tf.mul(scale, meanDy)) as tf.Tensor1D);
        const xcPart = scaleShift(xc, tf.neg(tf.mul(tf.mul(scale, tf.square(r)), meanDyXc)) as tf.Tensor1D);
        const dx = tf.add(dyPart, xcPart);
        if (!gm) return [dx];
        const count = dy.size / dy.shape[3]!;
        return [dx, tf.mul(tf.mul(r, meanDyXc), count), tf.mul(meanDy, count)];
      },
    };
  });
  return f(...inputs) as tf.Tensor4D;
}

/**
 * batchNormTraining through the backend's two batch-norm kernels (src/backend/onednn.ts:
 * oneDNN on wasm), one pass each way. Same formulas; the sums run in oneDNN's order.
 */
function batchNormTrainingKernels(x: tf.Tensor4D, gamma: tf.Tensor1D | undefined, beta: tf.Tensor1D | undefined, onMoments: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void): tf.Tensor4D {
  const inputs: tf.Tensor[] = gamma && beta ? [x, gamma, beta] : [x];
  const attrs = { epsilon: BN_EPSILON } as unknown as tf.NamedAttrMap;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xIn = args[0] as tf.Tensor4D;
    const channels = xIn.shape[3];
    const g = inputs.length === 3 ? (args[1] as tf.Tensor1D) : tf.ones([channels]);
    const b = inputs.length === 3 ? (args[2] as tf.Tensor1D) : tf.zeros([channels]);
    const [value, mean, variance] = tf.engine().runKernel(BATCH_NORM_KERNELS.forward, { x: xIn, gamma: g, beta: b }, attrs) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    onMoments(mean, variance);
    save([xIn, mean, variance, g]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, m, v, gm] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const [dx, dGamma, dBeta] = tf.engine().runKernel(BATCH_NORM_KERNELS.backward, { x: xs, dy, mean: m, variance: v, gamma: gm }, attrs) as tf.Tensor[];
        return inputs.length === 3 ? [dx!, dGamma!, dBeta!] : [dx!];
      },
    };
  });
  return f(...inputs) as tf.Tensor4D;
}

/**
 * BatchNorm over the channel axis. Training mode normalises with batch statistics and,
 * when the caller collects them, pushes running-statistic updates (unbiased variance, as
 * PyTorch) instead of assigning them, so a step can be abandoned without side effects.
 */
export function batchNorm(table: ParamTable, name: string, channels: number, affine: boolean): Layer {
  const gammaIndex = affine ? table.add(`${name}/gamma`, [channels], 'ones') : -1;
  const betaIndex = affine ? table.add(`${name}/beta`, [channels], 'zeros') : -1;
  const meanIndex = table.add(`${name}/running_mean`, [channels], 'zeros', false);
  const varIndex = table.add(`${name}/running_var`, [channels], 'ones', false);
  return (ctx, x) => {
    const gamma = affine ? (ctx.params[gammaIndex] as tf.Tensor1D) : undefined;
    const beta = affine ? (ctx.params[betaIndex] as tf.Tensor1D) : undefined;
    const runningMean = ctx.params[meanIndex]!;
    const runningVar = ctx.params[varIndex]!;
    if (!ctx.training) {
      const scale = tf.rsqrt(tf.add(runningVar, BN_EPSILON));
      const normalised = tf.mul(tf.sub(x, runningMean), gamma ? tf.mul(scale, gamma) : scale);
      return (beta ? tf.add(normalised, beta) : normalised) as tf.Tensor4D;
    }
    const updates = ctx.stateUpdates;
    return batchNormTraining(x, gamma, beta, (mean, variance) => {
      if (!updates) return;
      const count = x.size / channels;
      const unbiased = tf.mul(variance, count / Math.max(1, count - 1));
      updates.push({ variable: runningMean, value: tf.keep(tf.add(tf.mul(runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM))) });
      updates.push({ variable: runningVar, value: tf.keep(tf.add(tf.mul(runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM))) });
    });
  };
}

/** Fully connected layer with bias, on [N, inFeatures]. */
export function dense(table: ParamTable, name: string, inFeatures: number, outFeatures: number): (ctx: ForwardContext, x: tf.Tensor2D) => tf.Tensor2D {
  const kernel = table.add(`${name}/kernel`, [inFeatures, outFeatures], 'dense');
  const bias = table.add(`${name}/bias`, [outFeatures], 'zeros');
  return (ctx, x) => tf.add(tf.matMul(x, ctx.params[kernel] as tf.Tensor2D), ctx.params[bias]!) as tf.Tensor2D;
}

export const relu: (x: tf.Tensor4D) => tf.Tensor4D = (x) => tf.relu(x);

/** Global average pooling over H, W: [N, H, W, C] -> [N, C]. */
export function globalAveragePool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}
