/**
 * Magnitude-to-argument mappers (timm's LEVEL_TO_ARG, DRA's ranges). Each takes the
 * signed magnitude (m in [0, 1] times the sign, for signed ops) as a tensor [N] and
 * returns the op's argument [N] with tensor ops, so gradients reach the magnitude.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface ImageSize {
  height: number;
  width: number;
}

/**
 * Largest translation T (pixels) for an image side: 10 px at 32 px (CIFAR), 72 at 160,
 * 100 at 224 (ImageNet), as in DRA's and AutoAugment's code. Between these anchors T is
 * linear in the side; below 32 px and above 224 px it is proportional to the side
 * (10/32 and 100/224 of it). TranslateX uses the width, TranslateY the height.
 */
export function translateRange(side: number): number {
  const anchors: ReadonlyArray<readonly [number, number]> = [
    [32, 10],
    [160, 72],
    [224, 100],
  ];
  if (side <= 32) return (10 * side) / 32;
  if (side >= 224) return (100 * side) / 224;
  for (let i = 1; i < anchors.length; i++) {
    const [s1, t1] = anchors[i]!;
    const [s0, t0] = anchors[i - 1]!;
    if (side <= s1) return t0 + ((t1 - t0) * (side - s0)) / (s1 - s0);
  }
  return (100 * side) / 224;
}

type Mapper = (signedMagnitude: tf.Tensor1D, size: ImageSize) => tf.Tensor1D;

const scale = (k: number): Mapper => (m) => tf.mul(m, k) as tf.Tensor1D;

/** range +-0.3 m (shear factor) */
export const shearLevelToArg: Mapper = scale(0.3);
/** range +-T m pixels along the width, T = translateRange(width) */
export const translateXLevelToArg: Mapper = (m, size) => tf.mul(m, translateRange(size.width)) as tf.Tensor1D;
/** range +-T m pixels along the height, T = translateRange(height) */
export const translateYLevelToArg: Mapper = (m, size) => tf.mul(m, translateRange(size.height)) as tf.Tensor1D;
/** range +-30 m degrees */
export const rotateLevelToArg: Mapper = scale(30);
/** range 1 +- 0.9 m, i.e. factor in [0.1, 1.9] */
export const enhanceLevelToArg: Mapper = (m) => tf.add(tf.mul(m, 0.9), 1) as tf.Tensor1D;
/** range [0, int(0.2 H)]: square side floor(0.2 m H) pixels */
export const cutoutLevelToArg: Mapper = (m, size) => tf.floor(tf.mul(m, 0.2 * size.height)) as tf.Tensor1D;
/** range [256, 0]: threshold 256 - 256 m */
export const solarizeLevelToArg: Mapper = (m) => tf.sub(256, tf.mul(m, 256)) as tf.Tensor1D;
/** range [0, 4]: int(4 m) low bits dropped */
export const posterizeLevelToArg: Mapper = (m) => tf.floor(tf.mul(m, 4)) as tf.Tensor1D;
/** range [0, 110]: addend 110 m */
export const solarizeAddLevelToArg: Mapper = scale(110);
/** no magnitude: the argument is unused (the magnitude is passed along unchanged) */
export const noLevelToArg: Mapper = (m) => tf.clone(m);
