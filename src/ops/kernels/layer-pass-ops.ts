/**
 * The operators on one 8-bit image, for the layer pass (layer-pass.ts): each maps the
 * levels `src` (Uint8Array, H x W x C) to `dst` = floor(clip(op(src), 0, 255)), the
 * 8-bit image the tensor path gives after quantizeLikePil, bit for bit. They reach that
 * by doing the tensor path's float32 arithmetic in its order, and since an 8-bit image
 * has only 256 levels, most of them do it once per level into a table per image (or
 * per channel) and then look every element up: one byte read and one byte written per
 * element, where the float ops take tens of float passes over the batch.
 */
import type { HostArray } from '../../engine/host-kernels';
import { clamp255 } from '../../engine/host-kernels';
import { LUMA, smoothTable } from './blend';
import { equalizeTable } from './histogram';
import { solarizeAddValue, squareSpan } from './pointwise';

const f32 = Math.fround;

/** One operator call on one image: its size, its argument and the batch-wide geometry. */
export interface LevelCall {
  h: number;
  w: number;
  c: number;
  /** The op's argument for this sample (factor, threshold, bits, addend, side...). */
  argument: number;
  /** The six affine coefficients at matrix[matrixAt ..] (affine ops only). */
  matrix: HostArray;
  matrixAt: number;
  /** Cutout's centre as (row, column) fractions. */
  centreRow: number;
  centreColumn: number;
  bilinear: boolean;
  /** The fill value as a float32 (what the float ops write outside the image). */
  fill: number;
}

export type LevelOp = (src: Uint8Array, dst: Uint8Array, call: LevelCall) => void;

/** floor(clip(v, 0, 255)) of a float the ops computed, as the byte Pillow would store. */
function toLevel(v: number): number {
  // Storing into a Uint8Array truncates, which is floor for the clipped (non-negative) value.
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

const table = new Uint8Array(256);
const channelTables = new Uint8Array(3 * 256);
const histograms = [new Int32Array(256), new Int32Array(256), new Int32Array(256)] as const;
const equalizeLut = new Uint8Array(256);

function applyTable(src: Uint8Array, dst: Uint8Array, lut: Uint8Array): void {
  for (let i = 0, end = src.length; i < end; i++) dst[i] = lut[src[i]!]!;
}

/** Per-channel tables: channel k's at lut[256 k ..]. */
function applyChannelTables(src: Uint8Array, dst: Uint8Array, c: number, lut: Uint8Array): void {
  if (c === 1) {
    applyTable(src, dst, lut);
    return;
  }
  for (let i = 0, end = src.length; i < end; i += 3) {
    dst[i] = lut[src[i]!]!;
    dst[i + 1] = lut[256 + src[i + 1]!]!;
    dst[i + 2] = lut[512 + src[i + 2]!]!;
  }
}

/** A point operator given as its float function of one level (for this sample's argument). */
function pointOp(levelOf: (v: number, argument: number) => number): LevelOp {
  return (src, dst, call) => {
    for (let v = 0; v < 256; v++) table[v] = toLevel(levelOf(v, call.argument));
    applyTable(src, dst, table);
  };
}

/** ImageEnhance's blend of one element: clip(d + factor (v - d)) in float32 (blend.ts's order). */
function blendLevel(d: number, v: number, factor: number): number {
  return clamp255(f32(d + f32(factor * f32(v - d))));
}

/** f32(factor * diff) for every difference diff = v - d in [-255, 255], at index diff + 255. */
const scaledDifference = new Float32Array(511);

function fillScaledDifferences(factor: number): void {
  for (let k = 0; k < 511; k++) scaledDifference[k] = f32(factor * (k - 255));
}

/** Blend with a degenerate image: one level per element (Sharpness, channels = 1) or per pixel (Color, channels = 3). */
function blendWithDegenerate(src: Uint8Array, dst: Uint8Array, degenerate: Uint8Array, channels: number, factor: number): void {
  fillScaledDifferences(factor);
  const t = scaledDifference;
  for (let i = 0, p = 0, end = src.length; i < end; p++) {
    const d = degenerate[p]!;
    for (let k = 0; k < channels; k++, i++) {
      const v = f32(d + t[src[i]! - d + 255]!);
      dst[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

let scratch = new Uint8Array(0);

function scratchOf(length: number): Uint8Array {
  if (scratch.length < length) scratch = new Uint8Array(length);
  return scratch.subarray(0, length);
}

const [lumaR, lumaG, lumaB] = LUMA.map(f32) as [number, number, number];
const weightedR = Float32Array.from({ length: 256 }, (_, v) => f32(v * lumaR));
const weightedG = Float32Array.from({ length: 256 }, (_, v) => f32(v * lumaG));
const weightedB = Float32Array.from({ length: 256 }, (_, v) => f32(v * lumaB));

/** PIL's grayscale of each pixel, rounded half up (DraGrayscale with round), into gray (H x W). */
function grayscaleLevels(src: Uint8Array, gray: Uint8Array): void {
  for (let p = 0, i = 0, end = gray.length; p < end; p++, i += 3) {
    const v = f32(f32(weightedR[src[i]!]! + weightedG[src[i + 1]!]!) + weightedB[src[i + 2]!]!);
    gray[p] = Math.floor(f32(v + 0.5));
  }
}

const copy: LevelOp = (src, dst) => dst.set(src);

const color: LevelOp = (src, dst, call) => {
  // A one-channel image is its own grayscale: the blend leaves it as it is.
  if (call.c !== 3) return copy(src, dst, call);
  const gray = scratchOf(call.h * call.w);
  grayscaleLevels(src, gray);
  blendWithDegenerate(src, dst, gray, 3, call.argument);
};

const contrast: LevelOp = (src, dst, call) => {
  const { h, w, c } = call;
  const pixels = h * w;
  // The float path's mean: a float32 sum of integers below 2^24 is exact in any order, and
  // the float32 quotient is the correctly rounded one, which the float64 quotient rounds to.
  let sum = 0;
  if (c === 3) {
    const gray = scratchOf(pixels);
    grayscaleLevels(src, gray);
    for (let p = 0; p < pixels; p++) sum += gray[p]!;
  } else {
    for (let p = 0; p < pixels; p++) sum += src[p]!;
  }
  const mean = Math.floor(f32(f32(sum / pixels) + 0.5));
  for (let v = 0; v < 256; v++) table[v] = blendLevel(mean, v, call.argument);
  applyTable(src, dst, table);
};

const sharpness: LevelOp = (src, dst, call) => {
  const { h, w, c } = call;
  if (h < 3 || w < 3) return copy(src, dst, call);
  // The degenerate image: PIL's SMOOTH filter (rounded) inside, the image on the border.
  const smooth = scratchOf(src.length);
  const levels = smoothTable(true);
  const row = w * c;
  smooth.set(src.subarray(0, row));
  smooth.set(src.subarray((h - 1) * row), (h - 1) * row);
  for (let y = 1; y < h - 1; y++) {
    const start = y * row;
    for (let k = 0; k < c; k++) {
      smooth[start + k] = src[start + k]!;
      smooth[start + row - c + k] = src[start + row - c + k]!;
    }
    for (let i = start + c, end = start + row - c; i < end; i++) {
      const up = i - row;
      const down = i + row;
      const total =
        src[up - c]! + src[up]! + src[up + c]! + src[i - c]! + 5 * src[i]! + src[i + c]! + src[down - c]! + src[down]! + src[down + c]!;
      smooth[i] = levels[total]!;
    }
  }
  blendWithDegenerate(src, dst, smooth, 1, call.argument);
};

const equalize: LevelOp = (src, dst, call) => {
  const c = call.c;
  const pixels = call.h * call.w;
  for (let k = 0; k < c; k++) histograms[k]!.fill(0);
  if (c === 3) {
    const [r, g, b] = histograms;
    for (let i = 0, end = src.length; i < end; i += 3) {
      r[src[i]!]!++;
      g[src[i + 1]!]!++;
      b[src[i + 2]!]!++;
    }
  } else {
    const hist = histograms[0];
    for (let i = 0, end = src.length; i < end; i++) hist[src[i]!]!++;
  }
  for (let k = 0; k < c; k++) {
    const hist = histograms[k]!;
    let top = 255;
    while (top > 0 && hist[top] === 0) top--;
    equalizeTable(hist, top, pixels, equalizeLut);
    channelTables.set(equalizeLut, 256 * k);
  }
  applyChannelTables(src, dst, c, channelTables);
};

const autoContrast: LevelOp = (src, dst, call) => {
  const c = call.c;
  for (let k = 0; k < c; k++) {
    let lo = 255;
    let hi = 0;
    for (let i = k, end = src.length; i < end; i += c) {
      const v = src[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const at = 256 * k;
    const range = hi - lo;
    if (!(range > 0)) {
      for (let v = 0; v < 256; v++) channelTables[at + v] = v;
      continue;
    }
    const scale = f32(255 / range);
    for (let v = 0; v < 256; v++) channelTables[at + v] = toLevel(f32(f32(v - lo) * scale));
  }
  applyChannelTables(src, dst, c, channelTables);
};

const cutout: LevelOp = (src, dst, call) => {
  const { h, w, c } = call;
  dst.set(src);
  const side = Math.floor(call.argument);
  const [top, bottom] = squareSpan(call.centreRow, side, h);
  const [left, right] = squareSpan(call.centreColumn, side, w);
  if (right <= left) return;
  const fillLevel = toLevel(call.fill);
  for (let y = top; y < bottom; y++) dst.fill(fillLevel, (y * w + left) * c, (y * w + right) * c);
};

/** The affine warp of warp.ts (warpForward) on levels, each output floored to a level. */
const affine: LevelOp = (src, dst, call) => {
  const { h, w, c, matrix: m, matrixAt: at, bilinear } = call;
  const a = m[at]!, b = m[at + 1]!, cc = m[at + 2]!, d = m[at + 3]!, e = m[at + 4]!, f = m[at + 5]!;
  const fillLevel = toLevel(call.fill);
  let o = 0;
  for (let y = 0; y < h; y++) {
    const yc = y + 0.5;
    const by = f32(b * yc);
    const ey = f32(e * yc);
    for (let xi = 0; xi < w; xi++) {
      const xc = xi + 0.5;
      const sx = f32(f32(f32(a * xc) + by) + cc);
      const sy = f32(f32(f32(d * xc) + ey) + f);
      if (!(sx >= 0 && sx < w && sy >= 0 && sy < h)) {
        for (let k = 0; k < c; k++) dst[o++] = fillLevel;
        continue;
      }
      if (!bilinear) {
        const from = ((sy | 0) * w + (sx | 0)) * c;
        for (let k = 0; k < c; k++) dst[o++] = src[from + k]!;
        continue;
      }
      const bx = f32(sx - 0.5);
      const byy = f32(sy - 0.5);
      const x0 = ((bx + 1) | 0) - 1;
      const y0 = ((byy + 1) | 0) - 1;
      const fx = f32(bx - x0);
      const fy = f32(byy - y0);
      const cx0 = x0 < 0 ? 0 : x0;
      const cx1 = x0 + 1 > w - 1 ? w - 1 : x0 + 1;
      const cy0 = y0 < 0 ? 0 : y0;
      const cy1 = y0 + 1 > h - 1 ? h - 1 : y0 + 1;
      const i00 = (cy0 * w + cx0) * c;
      const i01 = (cy0 * w + cx1) * c;
      const i10 = (cy1 * w + cx0) * c;
      const i11 = (cy1 * w + cx1) * c;
      for (let k = 0; k < c; k++) {
        const v00 = src[i00 + k]!, v01 = src[i01 + k]!, v10 = src[i10 + k]!, v11 = src[i11 + k]!;
        // Differences of levels are exact, so only the products and sums round.
        const top = f32(v00 + f32(fx * (v01 - v00)));
        const bottom = f32(v10 + f32(fx * (v11 - v10)));
        const v = f32(top + f32(fy * f32(bottom - top)));
        dst[o++] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
};

/** Every operator's 8-bit form, by name; Identity (and a skipped layer) leave the image alone. */
export const LEVEL_OPS = {
  ShearX: affine,
  ShearY: affine,
  TranslateX: affine,
  TranslateY: affine,
  Rotate: affine,
  Brightness: pointOp((v, factor) => blendLevel(0, v, factor)),
  Color: color,
  Sharpness: sharpness,
  Contrast: contrast,
  Cutout: cutout,
  Solarize: pointOp((v, threshold) => (v < threshold ? v : 255 - v)),
  Posterize: pointOp((v, bits) => {
    const step = 2 ** Math.floor(bits);
    return Math.floor(v / step) * step;
  }),
  Equalize: equalize,
  AutoContrast: autoContrast,
  Invert: pointOp((v) => 255 - v),
  SolarizeAdd: pointOp((v, addend) => solarizeAddValue(v, addend)),
  Identity: copy,
} as const satisfies Record<string, LevelOp>;

/** Reads images' float values as levels floor(clip(v, 0, 255)); NaN is refused by the caller. */
export function readLevels(x: HostArray, from: number, dst: Uint8Array): boolean {
  let finite = true;
  for (let i = 0, end = dst.length; i < end; i++) {
    const v = x[from + i]!;
    if (v !== v) finite = false;
    dst[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return finite;
}

