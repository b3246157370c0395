/**
 * Shuffled mini-batches over an ImageSet, epoch by epoch, with a state that can be
 * saved and restored to continue with exactly the same batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ImageSet } from './types';
import { Rng, type RngState } from '../util/rng';

export interface BatchSamplerState {
  /** Epochs started so far minus one (0 during the first epoch). */
  epoch: number;
  /** Images of the current epoch already handed out. */
  position: number;
  /** Generator state just before this epoch's permutation was drawn. */
  epochRng: RngState;
  batchSize: number;
  count: number;
  dropLast: boolean;
}

export interface BatchSamplerOptions {
  batchSize: number;
  seed?: number;
  /**
   * Skip the short last batch of an epoch (default true): batch statistics of a
   * one-image batch would be meaningless for BatchNorm.
   */
  dropLast?: boolean;
}

export class BatchSampler {
  private rng: Rng;
  private order: Int32Array;
  private epochRng: RngState;
  private epochIndex: number;
  private position: number;
  readonly batchSize: number;
  readonly dropLast: boolean;

  constructor(readonly count: number, options: BatchSamplerOptions | BatchSamplerState) {
    const batchSize = options.batchSize;
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`a batch sampler needs at least one image, got ${count}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    this.batchSize = batchSize;
    this.dropLast = options.dropLast ?? true;
    if (this.dropLast && batchSize > count) {
      throw new RangeError(`batchSize ${batchSize} is larger than the ${count} images available, so with dropLast no batch could be formed`);
    }
    if ('epochRng' in options) {
      if (options.count !== count) {
        throw new RangeError(`sampler state was saved for ${options.count} images but this set has ${count}`);
      }
      if (!Number.isInteger(options.position) || options.position < 0 || options.position > count) {
        throw new RangeError(`sampler state position ${options.position} is outside [0, ${count}]`);
      }
      this.epochIndex = options.epoch;
      this.position = options.position;
      this.epochRng = [...options.epochRng];
      this.rng = new Rng(this.epochRng);
      this.order = this.rng.permutation(count);
    } else {
      this.rng = new Rng(options.seed ?? 0);
      this.epochIndex = 0;
      this.position = 0;
      this.epochRng = this.rng.state();
      this.order = this.rng.permutation(count);
    }
  }

  static fromState(state: BatchSamplerState): BatchSampler {
    return new BatchSampler(state.count, state);
  }

  get epoch(): number {
    return this.epochIndex;
  }

  /** Full batches per epoch (plus one short one when dropLast is false). */
  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.count / this.batchSize) : Math.ceil(this.count / this.batchSize);
  }

  /** Indices of the next batch; starts a new, freshly shuffled epoch when this one is used up. */
  next(): Int32Array {
    const left = this.count - this.position;
    if (left === 0 || (this.dropLast && left < this.batchSize)) this.startEpoch();
    const size = Math.min(this.batchSize, this.count - this.position);
    const batch = this.order.slice(this.position, this.position + size);
    this.position += size;
    return batch;
  }

  state(): BatchSamplerState {
    return {
      epoch: this.epochIndex,
      position: this.position,
      epochRng: [...this.epochRng],
      batchSize: this.batchSize,
      count: this.count,
      dropLast: this.dropLast,
    };
  }

  private startEpoch(): void {
    this.epochIndex++;
    this.position = 0;
    this.epochRng = this.rng.state();
    this.order = this.rng.permutation(this.count);
  }
}

/**
 * Random crop and horizontal flip, the standard CIFAR pipeline the official DRA code
 * runs before its augmentation: each image is zero-padded by `padding` pixels on every
 * side, a window of the original size is cut at a uniform offset in [0, 2 padding], and
 * the window is mirrored left-right with probability 1/2.
 */
export interface CropFlip {
  rng: Rng;
  /** Zero padding on each side (the official code uses side // 8: 4 at 32 px). */
  padding: number;
}

/** The padding the official pipeline uses for an image side: side // 8. */
export function cropPaddingFor(side: number): number {
  return Math.floor(side / 8);
}

/**
 * The images at `indices` as float32 NHWC in [0, 255] and their labels as int32; with
 * `cropFlip`, each image randomly cropped and flipped on the way (draws: row offset,
 * column offset, flip, per image in order).
 */
export function toTensors(set: ImageSet, indices: ArrayLike<number>, cropFlip?: CropFlip): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  if (cropFlip && (!Number.isInteger(cropFlip.padding) || cropFlip.padding < 0)) throw new RangeError(`crop padding must be a non-negative integer, got ${cropFlip.padding}`);
  const crops = cropFlip ? drawCropFlips(cropFlip.rng, indices.length, cropFlip.padding) : undefined;
  const { images, labels } = gatherImages(set, indices);
  const pixels = levelsOf(images, indices.length, set, crops);
  return {
    images: tf.tensor4d(pixels, [indices.length, set.height, set.width, set.channels], 'float32'),
    labels: tf.tensor1d(labels, 'int32'),
  };
}

/**
 * Each image's random crop and flip as [dy, dx, flip] triples: offsets in [-padding,
 * padding] and 1 for a horizontal flip, drawn image by image in that order (the order
 * toTensors has always drawn them in, so batches drawn ahead are the same batches).
 */
export function drawCropFlips(rng: Rng, n: number, padding: number): Int32Array {
  const crops = new Int32Array(3 * n);
  for (let i = 0; i < n; i++) {
    crops[3 * i] = rng.int(2 * padding + 1) - padding;
    crops[3 * i + 1] = rng.int(2 * padding + 1) - padding;
    crops[3 * i + 2] = rng.next() < 0.5 ? 1 : 0;
  }
  return crops;
}

/** The bytes and labels of the images at `indices`, packed one after another. */
export function gatherImages(set: ImageSet, indices: ArrayLike<number>): { images: Uint8Array; labels: Int32Array } {
  const per = set.height * set.width * set.channels;
  const images = new Uint8Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (!Number.isInteger(index) || index < 0 || index >= set.count) {
      throw new RangeError(`image index ${index} is out of range for a set of ${set.count} images`);
    }
    images.set(set.images.subarray(index * per, (index + 1) * per), i * per);
    labels[i] = set.labels[index]!;
  }
  return { images, labels };
}

/**
 * Packed images (gatherImages) as float32 levels, each shifted by its crop offsets and
 * mirrored where flipped, with the uncovered border 0 (the zero padding). Pure arithmetic
 * on arrays: augmentation workers run it too.
 */
export function levelsOf(images: Uint8Array, n: number, shape: { height: number; width: number; channels: number }, crops?: Int32Array): Float32Array {
  const { height: h, width: w, channels: c } = shape;
  const per = h * w * c;
  const pixels = new Float32Array(n * per);
  if (!crops) {
    for (let p = 0; p < n * per; p++) pixels[p] = images[p]!;
    return pixels;
  }
  for (let i = 0; i < n; i++) {
    const dy = crops[3 * i]!;
    const dx = crops[3 * i + 1]!;
    const flip = crops[3 * i + 2] === 1;
    const src = i * per;
    const dst = i * per;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx = (flip ? w - 1 - x : x) + dx;
        if (sx < 0 || sx >= w) continue;
        const from = src + (sy * w + sx) * c;
        const to = dst + (y * w + x) * c;
        for (let k = 0; k < c; k++) pixels[to + k] = images[from + k]!;
      }
    }
  }
  return pixels;
}
