/**
 * PNG data: URIs for image grids. sharp (prebuilt libvips, installs offline, already the
 * project's image decoder) encodes raw HWC bytes without a canvas.
 */
import * as tf from '@tensorflow/tfjs-core';
import { applyOp, quantizeLikePil } from '../ops';
import { assertOpName, DRA_OP_NAMES } from '../ops/names';
import { Rng } from '../util/rng';
import type { GalleryData, SampleGridData } from '../../widgets';

export async function pngDataUri(pixels: Uint8Array, width: number, height: number, channels: number): Promise<string> {
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new Error(`pngDataUri: channels must be 1, 3 or 4, got ${channels}`);
  if (pixels.length !== width * height * channels) {
    throw new Error(`pngDataUri: ${pixels.length} bytes for a ${height}x${width}x${channels} image (expected ${width * height * channels})`);
  }
  // Loaded on first use: the native library is only needed once an image is shown.
  const { default: sharp } = await import('sharp');
  const png = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.length), { raw: { width, height, channels } }).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** What `augmentSamples` returns (sync or async). */
export interface AugmentedSamples {
  original: Uint8Array[];
  augmented: Uint8Array[];
  ops: string[][];
  magnitudes: number[][];
  height: number;
  width: number;
  channels: number;
}

/** Encodes samples for the grid; layers whose op was not applied ('Identity') are left out of the caption. */
export async function encodeSamples(samples: AugmentedSamples): Promise<SampleGridData> {
  const { width, height, channels } = samples;
  const encode = (list: Uint8Array[]) => Promise.all(list.map((p) => pngDataUri(p, width, height, channels)));
  const [original, augmented] = await Promise.all([encode(samples.original), encode(samples.augmented)]);
  const kept = samples.ops.map((ops) => ops.map((op, j) => (op === 'Identity' ? -1 : j)).filter((j) => j >= 0));
  return {
    original,
    augmented,
    ops: kept.map((js, i) => js.map((j) => samples.ops[i]![j]!)),
    magnitudes: kept.map((js, i) => js.map((j) => samples.magnitudes[i]![j]!)),
    width,
    height,
  };
}

export interface GalleryInput {
  /** One image, HWC bytes. */
  pixels: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

export interface GallerySettings {
  ops: readonly string[];
  magnitudes: readonly number[];
  /** Seeds Cutout's centre so the gallery is the same every time. */
  seed: number;
}

export const GALLERY_SETTINGS_DEFAULTS: GallerySettings = {
  ops: DRA_OP_NAMES,
  magnitudes: [0, 0.25, 0.5, 0.75, 1],
  seed: 0,
};

/** Applies each operator to the image at each magnitude (signed ops with a positive sign). */
export async function galleryData(input: GalleryInput, settings: Partial<GallerySettings> = {}): Promise<GalleryData> {
  const s = { ...GALLERY_SETTINGS_DEFAULTS, ...settings };
  const { height, width, channels } = input;
  if (input.pixels.length !== height * width * channels) {
    throw new Error(`galleryData: ${input.pixels.length} bytes for a ${height}x${width}x${channels} image`);
  }
  s.magnitudes.forEach((m) => {
    // Above 1 extrapolates, as policies with magnitudeScale > 1 do.
    if (!(m >= 0 && Number.isFinite(m))) throw new Error(`galleryData: magnitudes must be finite and >= 0, got ${m}`);
  });
  const rng = new Rng(s.seed);
  const rows = [];
  for (const name of s.ops) {
    const op = assertOpName(name, 'gallery operator');
    const out = tf.tidy(() => {
      const one = tf.tensor4d(Float32Array.from(input.pixels), [1, height, width, channels]);
      const batch = tf.tile(one, [s.magnitudes.length, 1, 1, 1]) as tf.Tensor4D;
      return quantizeLikePil(applyOp(op, batch, tf.tensor1d([...s.magnitudes]), { rng }));
    });
    const values = Uint8Array.from(await out.data());
    out.dispose();
    const size = height * width * channels;
    const images = await Promise.all(s.magnitudes.map((_, i) => pngDataUri(values.subarray(i * size, (i + 1) * size), width, height, channels)));
    rows.push({ op, images });
  }
  return { original: await pngDataUri(input.pixels, width, height, channels), magnitudes: [...s.magnitudes], rows, width, height };
}
