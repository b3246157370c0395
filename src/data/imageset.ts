/**
 * Helpers over ImageSet (plain NHWC uint8 arrays): validation, subsets, channel
 * expansion, padding and resizing. Pure functions; nothing here touches tensors.
 */
import { createHash } from 'node:crypto';
import type { ImageSet } from './types';
import { datasetError } from './errors';

export function imageSize(set: ImageSet): number {
  return set.height * set.width * set.channels;
}

/** Checks shapes and label range; `source` names the file or spec in the message. */
export function checkImageSet(set: ImageSet, numClasses: number, source: string): ImageSet {
  const per = imageSize(set);
  if (set.images.length !== set.count * per) {
    throw datasetError(
      source,
      `holds ${set.images.length} pixel bytes, expected ${set.count} images x ${set.height}x${set.width}x${set.channels} = ${set.count * per}`,
    );
  }
  if (set.labels.length !== set.count) {
    throw datasetError(source, `has ${set.labels.length} labels for ${set.count} images; expected one label per image`);
  }
  for (let i = 0; i < set.count; i++) {
    const label = set.labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw datasetError(source, `label ${label} of image ${i} is out of range; expected an integer in [0, ${numClasses - 1}]`);
    }
  }
  return set;
}

/** The images at `indices`, in that order (copies the pixels). */
export function subsetImageSet(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const per = imageSize(set);
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
  return { images, labels, count: indices.length, height: set.height, width: set.width, channels: set.channels };
}

/** The first `count` images (no copy), or the whole set when count is undefined. */
export function takeFirst(set: ImageSet, count: number | undefined, what: string): ImageSet {
  if (count === undefined) return set;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`${what} must be a non-negative integer, got ${count}`);
  if (count > set.count) throw new RangeError(`${what} = ${count} but only ${set.count} images are available`);
  const per = imageSize(set);
  return { ...set, images: set.images.subarray(0, count * per), labels: set.labels.subarray(0, count), count };
}

/** Greyscale (C = 1) to RGB (C = 3) by copying the grey value into each channel. */
export function expandToRgb(set: ImageSet): ImageSet {
  if (set.channels === 3) return set;
  if (set.channels !== 1) throw new RangeError(`can only expand 1-channel images to 3 channels, got ${set.channels}`);
  const pixels = set.count * set.height * set.width;
  const images = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const v = set.images[p]!;
    images[3 * p] = v;
    images[3 * p + 1] = v;
    images[3 * p + 2] = v;
  }
  return { ...set, images, channels: 3 };
}

/**
 * Centres each image on a zero canvas of [height, width] (how 28x28 MNIST-style images
 * are usually brought to 32x32: 2 pixels each side, no interpolation).
 */
export function padImageSet(set: ImageSet, height: number, width: number): ImageSet {
  if (height < set.height || width < set.width) {
    throw new RangeError(`cannot pad ${set.height}x${set.width} images to the smaller ${height}x${width}; use resize instead`);
  }
  if (height === set.height && width === set.width) return set;
  const c = set.channels;
  const top = Math.floor((height - set.height) / 2);
  const left = Math.floor((width - set.width) / 2);
  const images = new Uint8Array(set.count * height * width * c);
  const srcRow = set.width * c;
  for (let n = 0; n < set.count; n++) {
    for (let y = 0; y < set.height; y++) {
      const src = (n * set.height + y) * srcRow;
      const dst = ((n * height + y + top) * width + left) * c;
      images.set(set.images.subarray(src, src + srcRow), dst);
    }
  }
  return { ...set, images, height, width };
}

/**
 * Bilinear resize with half-pixel centres (tf.image.resizeBilinear with
 * halfPixelCenters, no antialiasing), rounded to the nearest level.
 */
export function resizeImageSet(set: ImageSet, height: number, width: number): ImageSet {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`image size must be two positive integers, got ${height}x${width}`);
  }
  if (height === set.height && width === set.width) return set;
  const c = set.channels;
  const sh = set.height;
  const sw = set.width;
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    const sx = Math.min(Math.max((x + 0.5) * (sw / width) - 0.5, 0), sw - 1);
    x0[x] = Math.floor(sx);
    x1[x] = Math.min(x0[x]! + 1, sw - 1);
    fx[x] = sx - x0[x]!;
  }
  const images = new Uint8Array(set.count * height * width * c);
  for (let n = 0; n < set.count; n++) {
    const base = n * sh * sw * c;
    for (let y = 0; y < height; y++) {
      const sy = Math.min(Math.max((y + 0.5) * (sh / height) - 0.5, 0), sh - 1);
      const y0 = Math.floor(sy);
      const y1 = Math.min(y0 + 1, sh - 1);
      const fy = sy - y0;
      for (let x = 0; x < width; x++) {
        const a = fx[x]!;
        for (let k = 0; k < c; k++) {
          const p00 = set.images[base + (y0 * sw + x0[x]!) * c + k]!;
          const p01 = set.images[base + (y0 * sw + x1[x]!) * c + k]!;
          const p10 = set.images[base + (y1 * sw + x0[x]!) * c + k]!;
          const p11 = set.images[base + (y1 * sw + x1[x]!) * c + k]!;
          const top = p00 + (p01 - p00) * a;
          const bottom = p10 + (p11 - p10) * a;
          images[((n * height + y) * width + x) * c + k] = Math.round(top + (bottom - top) * fy);
        }
      }
    }
  }
  return { ...set, images, height, width };
}

/** How to bring images to a requested size: zero padding (never shrinks) or bilinear. */
export type ResizeMode = 'pad' | 'bilinear';

export function fitImageSet(set: ImageSet, size: readonly [number, number] | undefined, mode: ResizeMode): ImageSet {
  if (size === undefined) return set;
  const [h, w] = size;
  if (mode === 'pad' && h >= set.height && w >= set.width) return padImageSet(set, h, w);
  return resizeImageSet(set, h, w);
}

/**
 * A SHA-256 over an image set's shape, pixels and labels: what a checkpoint records of the
 * data it was trained on, so that a resume on data that changed since (a folder that
 * gained or lost images, a different file) is refused instead of silently drawing other
 * proxy halves.
 */
export function fingerprintImageSet(set: ImageSet): string {
  // Image sets are immutable: hashed once, not at every checkpoint (a CIFAR set is 150 MB).
  const known = fingerprints.get(set);
  if (known) return known;
  const hash = createHash('sha256');
  hash.update(`${set.count}x${set.height}x${set.width}x${set.channels}\n`);
  hash.update(set.images);
  hash.update(new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength));
  const digest = hash.digest('hex');
  fingerprints.set(set, digest);
  return digest;
}

const fingerprints = new WeakMap<ImageSet, string>();
