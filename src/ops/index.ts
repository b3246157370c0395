/**
 * The operator library: the 16 DRA operators plus Identity as a table (`OPS`), and the
 * batched entry points `applyOp` (one op, per-sample magnitudes) and `applyPerSample`
 * (a different op per sample, each op run once on the samples that chose it).
 *
 * Images are [N, H, W, C] float32 in [0, 255] (C = 1 or 3); magnitudes are [N], 0 to 1 over
 * each op's documented range. A magnitude above 1 (a policy with magnitude scale > 1)
 * extends the op's linear map as the official DRA ops do: Rotate at 1.5 turns 45 degrees,
 * Posterize drops int(4 m) bits (all 8 from m = 2), Solarize's threshold goes below 0
 * (every level inverted), the blends' factor leaves [0.1, 1.9] (clipped to [0, 255]).
 * Outputs are float; `quantizeLikePil` gives the 8-bit image Pillow would store. A frozen
 * policy's layers run instead as one 8-bit pass, `applyLayers` in layers.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng';
import { type OpName, ALL_OP_NAMES, assertOpName } from './names';
import { brightness, color, contrast, sharpness } from './color';
import { cutout, drawCutoutCentres } from './cutout';
import { type Interpolation, rotate, shearX, shearY, translateX, translateY } from './geometric';
import { autoContrast, equalize } from './histogram';
import * as L from './magnitude-to-argument';
import { invert, posterize, solarize, solarizeAdd } from './pointwise';
import { gatherBlocks, linkWithZeroGradient, scatterBlocks } from './primitives';

export * from './names';
export { type ImageSize, translateRange } from './magnitude-to-argument';
export { affineWarp, type AffineRows, type Interpolation } from './geometric';
export { cutoutSquares, drawCutoutCentres } from './cutout';
export { gatherRows, quantizeLikePil, stopGradient, straightThrough, straightThroughMagnitude } from './primitives';

export interface GeometryOptions {
  /** Sampling of the affine ops (default bilinear, as in DRA; torchvision's RandAugment uses nearest). */
  interpolation: Interpolation;
  /** Value (0..255) of pixels sampled from outside the image, and of the Cutout square (default 0, as in DRA; timm uses 128). */
  fill: number;
}

export const DEFAULT_GEOMETRY: Readonly<GeometryOptions> = { interpolation: 'bilinear', fill: 0 };

/** What the op passes back to the image: exact gradient, identity (straight-through), or none. */
export type GradientKind = 'exact' | 'straight-through' | 'none';

export interface OpOptions extends GeometryOptions {
  /** Cutout's square centres [N, 2] as (row, column) fractions in [0, 1). */
  cutoutCentre?: tf.Tensor2D;
  /**
   * Round the blends' degenerate images to integers as Pillow does (default true); the
   * rounding is passed straight through by the gradient. false: the continuous ops.
   */
  roundLikePil?: boolean;
}

export interface OpSpec {
  name: OpName;
  /** Whether the sign of the magnitude is randomised (+-). */
  signed: boolean;
  hasMagnitude: boolean;
  /** Gradient w.r.t. the image. */
  gradient: GradientKind;
  /** Whether the output is differentiable w.r.t. the argument (and so the magnitude). */
  magnitudeGradient: boolean;
  /** one-line documented range, e.g. '+-0.3 m' */
  range: string;
  /** magnitude m in [0,1] (sign already applied) -> op argument, for an image of this size; differentiable */
  argument(signedMagnitude: tf.Tensor1D, size: L.ImageSize): tf.Tensor1D;
  apply(images: tf.Tensor4D, argument: tf.Tensor1D, options: OpOptions): tf.Tensor4D;
}

type Row = Omit<OpSpec, 'name'>;

const affine = (
  warp: typeof shearX,
  argument: OpSpec['argument'],
  range: string,
): Row => ({
  signed: true,
  hasMagnitude: true,
  gradient: 'exact',
  magnitudeGradient: true,
  range,
  argument,
  apply: (x, arg, o) => warp(x, arg, o.interpolation, o.fill),
});

const enhance = (op: typeof brightness): Row => ({
  signed: true,
  hasMagnitude: true,
  gradient: 'exact',
  magnitudeGradient: true,
  range: 'factor 1 +- 0.9 m (0.1 .. 1.9)',
  argument: L.enhanceLevelToArg,
  apply: (x, arg, o) => op(x, arg, o.roundLikePil ?? true),
});

const unary = (op: (x: tf.Tensor4D) => tf.Tensor4D, gradient: GradientKind): Row => ({
  signed: false,
  hasMagnitude: false,
  gradient,
  magnitudeGradient: false,
  range: 'no magnitude',
  argument: L.noLevelToArg,
  apply: (x) => op(x),
});

const TABLE: Record<OpName, Row> = {
  ShearX: affine(shearX, L.shearLevelToArg, '+-0.3 m (shear factor)'),
  ShearY: affine(shearY, L.shearLevelToArg, '+-0.3 m (shear factor)'),
  TranslateX: affine(translateX, L.translateXLevelToArg, '+-T m px, T = 10 at 32 px, 100 at 224 px (translateRange(width))'),
  TranslateY: affine(translateY, L.translateYLevelToArg, '+-T m px, T = 10 at 32 px, 100 at 224 px (translateRange(height))'),
  Rotate: affine(rotate, L.rotateLevelToArg, '+-30 m degrees, counter-clockwise'),
  Brightness: enhance(brightness),
  Color: enhance(color),
  Sharpness: enhance(sharpness),
  Contrast: enhance(contrast),
  Cutout: {
    signed: false,
    hasMagnitude: true,
    gradient: 'exact',
    magnitudeGradient: false,
    range: 'square side floor(0.2 m H) px, filled with options.fill',
    argument: L.cutoutLevelToArg,
    apply: (x, arg, o) => {
      if (!o.cutoutCentre) throw new Error('Cutout needs per-sample centres: pass options.cutoutCentre [N, 2] or options.rng');
      return cutout(x, arg, o.cutoutCentre, o.fill);
    },
  },
  Solarize: {
    signed: false,
    hasMagnitude: true,
    gradient: 'exact',
    magnitudeGradient: false,
    range: 'threshold 256 - 256 m',
    argument: L.solarizeLevelToArg,
    apply: (x, arg) => solarize(x, arg),
  },
  Posterize: {
    signed: false,
    hasMagnitude: true,
    gradient: 'straight-through',
    magnitudeGradient: false,
    range: 'drop int(4 m) low bits (keep 8 .. 4)',
    argument: L.posterizeLevelToArg,
    apply: (x, arg) => posterize(x, arg),
  },
  Equalize: unary(equalize, 'straight-through'),
  AutoContrast: unary(autoContrast, 'exact'),
  Invert: unary(invert, 'exact'),
  SolarizeAdd: {
    signed: false,
    hasMagnitude: true,
    gradient: 'exact',
    magnitudeGradient: true,
    range: 'add 110 m to levels below 128, clipped at 255',
    argument: L.solarizeAddLevelToArg,
    apply: (x, arg) => solarizeAdd(x, arg),
  },
  Identity: unary((x) => tf.clone(x), 'exact'),
};

export const OPS: Readonly<Record<OpName, OpSpec>> = Object.freeze(
  Object.fromEntries(ALL_OP_NAMES.map((name) => [name, Object.freeze({ name, ...TABLE[name] })])) as Record<OpName, OpSpec>,
);

export interface ApplyOptions extends Partial<OpOptions> {
  /** [N] of +-1; ignored for unsigned ops (default +1). */
  sign?: tf.Tensor1D;
  /** Draws Cutout centres when `cutoutCentre` is not given. */
  rng?: Rng;
}

/** The geometry options with their defaults, checked (an error names a bad interpolation or fill). */
export function resolveOptions(options: Partial<GeometryOptions>): GeometryOptions {
  const interpolation = options.interpolation ?? DEFAULT_GEOMETRY.interpolation;
  const fill = options.fill ?? DEFAULT_GEOMETRY.fill;
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') {
    throw new Error(`interpolation must be 'nearest' or 'bilinear', got '${String(interpolation)}'`);
  }
  if (typeof fill !== 'number' || !Number.isFinite(fill) || fill < 0 || fill > 255) {
    throw new Error(`fill must be a number in [0, 255], got ${String(fill)}`);
  }
  return { interpolation, fill };
}

/** Checks a batch of images: a float32 tensor [N, H, W, C], non-empty, with 1 or 3 channels. */
export function checkImages(images: tf.Tensor, where: string): asserts images is tf.Tensor4D {
  if (!(images instanceof tf.Tensor)) throw new Error(`${where}: images must be a tf.Tensor [N, H, W, C]`);
  if (images.rank !== 4) throw new Error(`${where}: images must be [N, H, W, C], got shape [${images.shape.join(', ')}]`);
  if (images.dtype !== 'float32') throw new Error(`${where}: images must be float32 in [0, 255], got ${images.dtype}`);
  const [n, h, w, c] = images.shape as number[];
  if (n! < 1 || h! < 1 || w! < 1) throw new Error(`${where}: images must be non-empty, got shape [${images.shape.join(', ')}]`);
  if (c !== 1 && c !== 3) throw new Error(`${where}: images must have 1 or 3 channels, got ${c}`);
}

function checkPerSample(t: tf.Tensor | undefined, n: number, what: string, where: string): void {
  if (t === undefined) return;
  if (!(t instanceof tf.Tensor) || t.rank !== 1 || t.shape[0] !== n) {
    throw new Error(`${where}: ${what} must be a tensor of shape [${n}] (one per image), got ${t instanceof tf.Tensor ? `[${t.shape.join(', ')}]` : typeof t}`);
  }
}

/**
 * Refuses NaN and infinite pixels with the place of the first one. One reduction and a
 * scalar read: applyOp is a public entry point, where a NaN would otherwise come out as a
 * NaN or black image with no word.
 */
export function checkFiniteImages(images: tf.Tensor, where: string): void {
  const bad = tf.tidy(() => tf.logicalNot(tf.isFinite(images)));
  try {
    if (tf.tidy(() => tf.any(bad).dataSync()[0]) === 0) return;
    const flags = Array.from(bad.dataSync(), Number);
    const count = flags.reduce((a, b) => a + b, 0);
    const first = flags.indexOf(1);
    const [, h, w, c] = images.shape as number[];
    const at = [Math.floor(first / (h! * w! * c!)), Math.floor(first / (w! * c!)) % h!, Math.floor(first / c!) % w!, first % c!];
    const value = images.dataSync()[first];
    throw new Error(`${where}: images hold ${count} non-finite value${count === 1 ? '' : 's'} (first: ${value} at [${at.join(', ')}]); pixels must be finite numbers in [0, 255]`);
  } finally {
    bad.dispose();
  }
}

/** Refuses a magnitude that is NaN, infinite or negative (the sign goes in `sign`), and a sign that is not +-1. */
function checkMagnitudeValues(magnitude: tf.Tensor1D, sign: tf.Tensor1D | undefined, where: string): void {
  const m = magnitude.dataSync();
  for (let i = 0; i < m.length; i++) {
    const v = m[i]!;
    // Shown at float32 precision: -0.2, not -0.20000000298023224.
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`${where}: magnitude[${i}] = ${Number(v.toPrecision(7))}; magnitudes must be finite and >= 0 (1 is RandAugment's strongest bin; a direction goes in sign)`);
  }
  if (sign === undefined) return;
  const s = sign.dataSync();
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== 1 && s[i] !== -1) throw new Error(`${where}: sign[${i}] = ${s[i]}; signs must be +1 or -1`);
  }
}

/**
 * Applies one operator to a batch with one magnitude per sample.
 * images [N,H,W,C] float32 in [0,255]; magnitude [N], finite and >= 0 (1 is RandAugment's
 * strongest bin; above 1 extrapolates, as a policy with magnitudeScale > 1 does); sign [N]
 * of +-1 (ignored for unsigned ops). NaN or infinite images or magnitudes are refused
 * with the argument's name. Differentiable w.r.t. images and magnitude as the op's spec says.
 */
export function applyOp(name: OpName, images: tf.Tensor4D, magnitude: tf.Tensor1D, options: ApplyOptions = {}): tf.Tensor4D {
  checkImages(images, `applyOp(${name})`);
  checkPerSample(magnitude, images.shape[0], 'magnitude', `applyOp(${name})`);
  checkPerSample(options.sign, images.shape[0], 'sign', `applyOp(${name})`);
  checkMagnitudeValues(magnitude, options.sign, `applyOp(${name})`);
  checkFiniteImages(images, `applyOp(${name})`);
  return applyOpWithoutValueChecks(name, images, magnitude, options);
}

/**
 * applyOp without its checks of shapes and values (the values' cost a read-back each): the
 * callers have checked the shapes (applyOp, applyPerSample for its whole batch); the
 * batched path's magnitudes come from a clipped policy and its images from the data or a
 * previous op, and the search checks each step's losses instead.
 */
function applyOpWithoutValueChecks(name: OpName, images: tf.Tensor4D, magnitude: tf.Tensor1D, options: ApplyOptions): tf.Tensor4D {
  const op = OPS[assertOpName(name)];
  const n = images.shape[0];
  const geometry = resolveOptions(options);
  if (options.cutoutCentre !== undefined) {
    const c = options.cutoutCentre;
    if (!(c instanceof tf.Tensor) || c.rank !== 2 || c.shape[0] !== n || c.shape[1] !== 2) {
      throw new Error(`applyOp(${name}): cutoutCentre must be [${n}, 2]`);
    }
  }
  return tf.tidy(() => {
    const signed = op.signed && options.sign ? (tf.mul(magnitude, options.sign) as tf.Tensor1D) : magnitude;
    const argument = op.argument(signed, { height: images.shape[1], width: images.shape[2] });
    let cutoutCentre = options.cutoutCentre;
    if (name === 'Cutout' && !cutoutCentre && options.rng) cutoutCentre = drawCutoutCentres(options.rng, n, images.shape[1], images.shape[2]);
    const out = op.apply(images, argument, {
      ...geometry,
      ...(cutoutCentre ? { cutoutCentre } : {}),
      ...(options.roundLikePil !== undefined ? { roundLikePil: options.roundLikePil } : {}),
    });
    return op.magnitudeGradient ? out : linkWithZeroGradient(out, magnitude);
  });
}

export interface PerSampleOptions extends Partial<GeometryOptions> {
  /** Draws Cutout centres (in group order) when `cutoutCentre` is not given. */
  rng?: Rng;
  /** Cutout centres [N, 2] for the whole batch (rows of other ops are ignored). */
  cutoutCentre?: tf.Tensor2D;
}

/**
 * Per-sample operator choice, computed batched: each op runs ONCE on the samples that
 * chose it (gather), and the results are reassembled in the original order with a
 * differentiable gather by the inverse permutation. opIndex[i] indexes `ops`; -1 means
 * identity. Differentiable w.r.t. images and magnitude. A batch that chooses Cutout needs
 * `options.rng` or `options.cutoutCentre`.
 */
export function applyPerSample(
  images: tf.Tensor4D,
  ops: readonly OpName[],
  opIndex: Int32Array,
  magnitude: tf.Tensor1D,
  sign: Float32Array,
  options: PerSampleOptions = {},
): tf.Tensor4D {
  checkImages(images, 'applyPerSample');
  const n = images.shape[0];
  for (const name of ops) assertOpName(name, 'applyPerSample operator');
  if (!(opIndex instanceof Int32Array) || opIndex.length !== n) throw new Error(`applyPerSample: opIndex must be an Int32Array of length ${n}`);
  if (!(sign instanceof Float32Array) || sign.length !== n) throw new Error(`applyPerSample: sign must be a Float32Array of length ${n}`);
  checkPerSample(magnitude, n, 'magnitude', 'applyPerSample');
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const k = opIndex[i]!;
    if (!Number.isInteger(k) || k < -1 || k >= ops.length) throw new Error(`applyPerSample: opIndex[${i}] = ${k} is outside [-1, ${ops.length - 1}]`);
    if (sign[i] !== 1 && sign[i] !== -1) throw new Error(`applyPerSample: sign[${i}] = ${sign[i]} must be +1 or -1`);
    const members = groups.get(k);
    if (members) members.push(i);
    else groups.set(k, [i]);
  }
  const geometry = resolveOptions(options);
  return tf.tidy(() => {
    const run = (k: number, x: tf.Tensor4D, mag: tf.Tensor1D, signs: Float32Array, centre: tf.Tensor2D | undefined): tf.Tensor4D => {
      if (k === -1) return tf.clone(x);
      return applyOpWithoutValueChecks(ops[k]!, x, mag, {
        ...geometry,
        sign: tf.tensor1d(signs),
        ...(centre ? { cutoutCentre: centre } : {}),
        ...(options.rng ? { rng: options.rng } : {}),
      });
    };
    if (groups.size === 1) {
      const [k] = groups.keys();
      return run(k!, images, magnitude, sign, options.cutoutCentre);
    }
    // One permutation puts the batch in group order and cuts it into one block per op
    // (a single copy), and its converse puts the results back in the original order.
    const keys = [...groups.keys()].sort((a, b) => a - b);
    const order = Int32Array.from(keys.flatMap((k) => groups.get(k)!));
    const sizes = keys.map((k) => groups.get(k)!.length);
    const blocks = gatherBlocks(images, order, sizes);
    const magnitudes = gatherBlocks(magnitude, order, sizes);
    const centres = options.cutoutCentre ? gatherBlocks(options.cutoutCentre, order, sizes) : undefined;
    const sortedSigns = Float32Array.from(order, (i) => sign[i]!);
    let start = 0;
    const parts = keys.map((k, g) => {
      const part = run(k, blocks[g]!, magnitudes[g]!, sortedSigns.subarray(start, start + sizes[g]!), centres?.[g]);
      start += sizes[g]!;
      return part;
    });
    return scatterBlocks(parts, order);
  });
}
