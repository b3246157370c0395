// AssemblyScript: the 8-bit layer pass (DraLayerPass) compiled to WebAssembly, the loops of
// src/ops/kernels/layer-pass-ops.ts and layer-pass.ts, which it must match bit for bit. Every
// float operation is single precision in the JavaScript loops' order (they round with
// Math.fround after each step); wasm has no fused multiply-add, so the results agree.
//
// Pointers are byte offsets into the imported memory. `work` is scratch space laid out
// as two image buffers of align16(size + 16) bytes, three 256-byte tables and six
// 256-entry i32 histograms (LAYER_PASS_WORK_BYTES in layer-pass.ts).

import { SHEAR_X, SHEAR_Y, TRANSLATE_X, TRANSLATE_Y, ROTATE, BRIGHTNESS, COLOR, SHARPNESS, CONTRAST, CUTOUT, SOLARIZE, POSTERIZE, EQUALIZE, AUTO_CONTRAST, INVERT, SOLARIZE_ADD } from '../op-codes';

const LUMA_R: f32 = 19595.0 / 65536.0;
const LUMA_G: f32 = 38470.0 / 65536.0;
const LUMA_B: f32 = 7471.0 / 65536.0;

@inline
function align16(bytes: i32): i32 {
  return (bytes + 15) & ~15;
}

/** The level at p as a float; through i32, since wasm's unsigned conversion is the slow one on x64. */
@inline
function levelAt(p: usize): f32 {
  return <f32><i32>load<u8>(p);
}

/** floor(clip(v, 0, 255)) as a byte. */
@inline
function toLevel(v: f32): u8 {
  // Comparisons, not min/max: NaN goes to 0 rather than into a trapping conversion.
  const clipped: f32 = v > 0 ? (v < 255 ? v : 255) : 0;
  return <u8>(<i32>clipped);
}

@inline
function blendLevel(d: f32, v: f32, factor: f32): u8 {
  return toLevel(d + factor * (v - d));
}

// --- SIMD helpers: 16 levels as four f32x4 quarters, and back ---------------------------

@inline
function quarter0(b: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(b)));
}

@inline
function quarter1(b: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(i16x8.extend_low_i8x16_u(b)));
}

@inline
function quarter2(b: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(i16x8.extend_high_i8x16_u(b)));
}

@inline
function quarter3(b: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(i16x8.extend_high_i8x16_u(b)));
}

/**
 * floor(clip(v, 0, 255)) of four floats as i32 lanes (toLevel, lane by lane), for values
 * that are not NaN. pmin/pmax are single instructions where min/max carry NaN rules,
 * and adding 2^23 to the floored value leaves the integer in the low mantissa bits,
 * cheaper than a saturating conversion.
 */
@inline
function levelLanes(v: v128): v128 {
  const clipped = f32x4.pmin(f32x4.pmax(v, f32x4.splat(0)), f32x4.splat(255));
  return i32x4.sub(f32x4.add(f32x4.floor(clipped), f32x4.splat(8388608)), i32x4.splat(0x4b000000));
}

@inline
function packLevels(a: v128, b: v128, c: v128, d: v128): v128 {
  return i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(levelLanes(a), levelLanes(b)), i16x8.narrow_i32x4_s(levelLanes(c), levelLanes(d)));
}

/** d + factor (v - d) of four lanes, in blendLevel's order. */
@inline
function blendLanes(d: v128, v: v128, factor: v128): v128 {
  return f32x4.add(d, f32x4.mul(factor, f32x4.sub(v, d)));
}

/**
 * blendLevel(d, v, factor) of every level v with one degenerate level d (Brightness: d =
 * 0; Contrast: the mean) as a table: a lookup per element costs less than the float
 * lanes do.
 */
function constantBlendTable(d: f32, factor: f32, lut: usize): void {
  for (let v = 0; v < 256; v++) store<u8>(lut + v, blendLevel(d, <f32>v, factor));
}

/** ImageOps.solarize on levels: v < threshold ? v : 255 - v. */
function solarize(src: usize, dst: usize, size: i32, threshold: f32): void {
  // For a level v, v < t exactly when v < ceil(t).
  const below = <i32>Mathf.ceil(min(max(threshold, <f32>0), <f32>256));
  if (below >= 256) {
    memory.copy(dst, src, size);
    return;
  }
  const t = i8x16.splat(<u8>below);
  const all = i8x16.splat(<u8>255);
  let i = 0;
  for (; i + 16 <= size; i += 16) {
    const v = v128.load(src + i);
    v128.store(dst + i, v128.bitselect(v, i8x16.sub(all, v), i8x16.lt_u(v, t)));
  }
  for (; i < size; i++) {
    const v = <i32>load<u8>(src + i);
    store<u8>(dst + i, <u8>(v < below ? v : 255 - v));
  }
}

function invert(src: usize, dst: usize, size: i32): void {
  const all = i8x16.splat(<u8>255);
  let i = 0;
  for (; i + 16 <= size; i += 16) v128.store(dst + i, i8x16.sub(all, v128.load(src + i)));
  for (; i < size; i++) store<u8>(dst + i, <u8>(255 - <i32>load<u8>(src + i)));
}

/** ImageOps.posterize: the low `bits` bits cleared. */
function posterize(src: usize, dst: usize, size: i32, bits: f32): void {
  const dropped = min(max(<i32>Mathf.floor(bits), 0), 8);
  const mask = <u8>((<i32>0xff << dropped) & 0xff);
  const maskV = i8x16.splat(mask);
  let i = 0;
  for (; i + 16 <= size; i += 16) v128.store(dst + i, v128.and(v128.load(src + i), maskV));
  for (; i < size; i++) store<u8>(dst + i, load<u8>(src + i) & mask);
}

function applyTable(src: usize, dst: usize, size: i32, lut: usize): void {
  let i = 0;
  // Four lookups a step, read and written as one word each.
  for (; i + 4 <= size; i += 4) {
    const v = load<u32>(src + i);
    const out =
      <u32>load<u8>(lut + (v & 0xff)) |
      (<u32>load<u8>(lut + ((v >> 8) & 0xff)) << 8) |
      (<u32>load<u8>(lut + ((v >> 16) & 0xff)) << 16) |
      (<u32>load<u8>(lut + (v >> 24)) << 24);
    store<u32>(dst + i, out);
  }
  for (; i < size; i++) store<u8>(dst + i, load<u8>(lut + load<u8>(src + i)));
}

/** Channel k's table at lut + 256 k. */
function applyChannelTables(src: usize, dst: usize, size: i32, c: i32, lut: usize): void {
  if (c == 1) {
    applyTable(src, dst, size, lut);
    return;
  }
  let i = 0;
  // Four pixels a step, read and written as three words: the channel of byte j is j % 3.
  for (; i + 12 <= size; i += 12) {
    const v0 = load<u32>(src + i), v1 = load<u32>(src + i + 4), v2 = load<u32>(src + i + 8);
    const r = lut, g = lut + 256, b = lut + 512;
    store<u32>(dst + i,
      <u32>load<u8>(r + (v0 & 0xff)) | (<u32>load<u8>(g + ((v0 >> 8) & 0xff)) << 8) |
      (<u32>load<u8>(b + ((v0 >> 16) & 0xff)) << 16) | (<u32>load<u8>(r + (v0 >> 24)) << 24));
    store<u32>(dst + i + 4,
      <u32>load<u8>(g + (v1 & 0xff)) | (<u32>load<u8>(b + ((v1 >> 8) & 0xff)) << 8) |
      (<u32>load<u8>(r + ((v1 >> 16) & 0xff)) << 16) | (<u32>load<u8>(g + (v1 >> 24)) << 24));
    store<u32>(dst + i + 8,
      <u32>load<u8>(b + (v2 & 0xff)) | (<u32>load<u8>(r + ((v2 >> 8) & 0xff)) << 8) |
      (<u32>load<u8>(g + ((v2 >> 16) & 0xff)) << 16) | (<u32>load<u8>(b + (v2 >> 24)) << 24));
  }
  for (; i < size; i += 3) {
    store<u8>(dst + i, load<u8>(lut + load<u8>(src + i)));
    store<u8>(dst + i + 1, load<u8>(lut + 256 + load<u8>(src + i + 1)));
    store<u8>(dst + i + 2, load<u8>(lut + 512 + load<u8>(src + i + 2)));
  }
}

@inline
function gray(src: usize, i: i32): f32 {
  const v = levelAt(src + i) * LUMA_R + levelAt(src + i + 1) * LUMA_G + levelAt(src + i + 2) * LUMA_B;
  return Mathf.floor(v + 0.5);
}

function pointTable(code: i32, argument: f32, lut: usize): void {
  for (let v = 0; v < 256; v++) {
    const level = <f32>v;
    let out: f32 = level;
    if (code == BRIGHTNESS) out = <f32>0 + argument * (level - <f32>0);
    else if (code == SOLARIZE) out = level < argument ? level : <f32>255 - level;
    else if (code == POSTERIZE) {
      const bits = min(max(<i32>Mathf.floor(argument), 0), 8);
      out = <f32>((v >> bits) << bits);
    } else if (code == INVERT) out = <f32>255 - level;
    else if (code == SOLARIZE_ADD) out = v < 128 ? min(level + argument, <f32>255) : level;
    store<u8>(lut + v, toLevel(out));
  }
}

function equalize(src: usize, dst: usize, h: i32, w: i32, c: i32, lut: usize, hist: usize): void {
  const size = h * w * c;
  const pixels = h * w;
  // Two histograms per channel (even and odd pixels), summed at the end: consecutive
  // increments of one bin then seldom wait on each other's store.
  memory.fill(hist, 0, 6 * 256 * 4);
  const stride = <usize>(c * 256) << 2;
  let i = 0;
  for (; i + 2 * c <= size; i += 2 * c) {
    for (let k = 0; k < c; k++) {
      const even = hist + ((<usize>(k * 256 + load<u8>(src + i + k))) << 2);
      store<i32>(even, load<i32>(even) + 1);
      const odd = hist + stride + ((<usize>(k * 256 + load<u8>(src + i + c + k))) << 2);
      store<i32>(odd, load<i32>(odd) + 1);
    }
  }
  for (; i < size; i += c) {
    for (let k = 0; k < c; k++) {
      const at = hist + ((<usize>(k * 256 + load<u8>(src + i + k))) << 2);
      store<i32>(at, load<i32>(at) + 1);
    }
  }
  for (let j = 0; j < c * 256; j++) {
    const at = hist + (<usize>j << 2);
    store<i32>(at, load<i32>(at) + load<i32>(at + stride));
  }
  for (let k = 0; k < c; k++) {
    const hk = hist + (<usize>(k * 256) << 2);
    const lk = lut + <usize>(k * 256);
    let top = 255;
    while (top > 0 && load<i32>(hk + (<usize>top << 2)) == 0) top--;
    const step = (pixels - load<i32>(hk + (<usize>top << 2))) / 255;
    if (step <= 0) {
      for (let v = 0; v < 256; v++) store<u8>(lk + v, <u8>v);
      continue;
    }
    let below = 0;
    const half = step / 2;
    for (let v = 0; v < 256; v++) {
      store<u8>(lk + v, <u8>min((half + below) / step, 255));
      below += load<i32>(hk + (<usize>v << 2));
    }
  }
  applyChannelTables(src, dst, size, c, lut);
}

/**
 * Each channel's lowest and highest level, into lows[k] and highs[k] (bytes). 48 levels a
 * step in three vectors: byte j of vector a always holds channel (16 a + j) % 3.
 */
function channelRanges(src: usize, size: i32, c: i32, lows: usize, highs: usize, scratch: usize): void {
  for (let k = 0; k < c; k++) {
    store<u8>(lows + k, 255);
    store<u8>(highs + k, 0);
  }
  let i = 0;
  if (c == 3) {
    let lo0 = i8x16.splat(-1), lo1 = i8x16.splat(-1), lo2 = i8x16.splat(-1);
    let hi0 = i8x16.splat(0), hi1 = i8x16.splat(0), hi2 = i8x16.splat(0);
    for (; i + 48 <= size; i += 48) {
      const v0 = v128.load(src + i), v1 = v128.load(src + i, 16), v2 = v128.load(src + i, 32);
      lo0 = i8x16.min_u(lo0, v0);
      lo1 = i8x16.min_u(lo1, v1);
      lo2 = i8x16.min_u(lo2, v2);
      hi0 = i8x16.max_u(hi0, v0);
      hi1 = i8x16.max_u(hi1, v1);
      hi2 = i8x16.max_u(hi2, v2);
    }
    v128.store(scratch, lo0);
    v128.store(scratch, lo1, 16);
    v128.store(scratch, lo2, 32);
    v128.store(scratch, hi0, 48);
    v128.store(scratch, hi1, 64);
    v128.store(scratch, hi2, 80);
    if (i > 0) {
      for (let j = 0; j < 48; j++) {
        const k = j % 3;
        store<u8>(lows + k, min(load<u8>(lows + k), load<u8>(scratch + j)));
        store<u8>(highs + k, max(load<u8>(highs + k), load<u8>(scratch + 48 + j)));
      }
    }
  }
  for (; i < size; i++) {
    const k = i % c;
    const v = load<u8>(src + i);
    store<u8>(lows + k, min(load<u8>(lows + k), v));
    store<u8>(highs + k, max(load<u8>(highs + k), v));
  }
}

function autoContrast(src: usize, dst: usize, size: i32, c: i32, lut: usize, hist: usize): void {
  // The histogram space is free here: ranges at its start, vector scratch after them.
  channelRanges(src, size, c, hist, hist + 4, hist + 16);
  for (let k = 0; k < c; k++) {
    const lo = <i32>load<u8>(hist + k);
    const hi = <i32>load<u8>(hist + 4 + k);
    const lk = lut + <usize>(k * 256);
    const range = hi - lo;
    if (range <= 0) {
      for (let v = 0; v < 256; v++) store<u8>(lk + v, <u8>v);
      continue;
    }
    const scale: f32 = <f32>255 / <f32>range;
    for (let v = 0; v < 256; v++) store<u8>(lk + v, toLevel(<f32>(v - lo) * scale));
  }
  applyChannelTables(src, dst, size, c, lut);
}

function contrast(src: usize, dst: usize, h: i32, w: i32, c: i32, factor: f32, lut: usize): void {
  const pixels = h * w;
  let sum: i64 = 0;
  if (c == 3) {
    const wr = f32x4.splat(LUMA_R), wg = f32x4.splat(LUMA_G), wb = f32x4.splat(LUMA_B);
    const half = f32x4.splat(0.5);
    let lanes = i32x4.splat(0);
    let i = 0;
    // Four pixels a step (see color); each lane's sum stays below 2^31 for any image
    // this library can hold (255 per pixel).
    for (; i + 16 <= pixels * 3; i += 12) {
      const b = v128.load(src + i);
      const r = f32x4.convert_i32x4_s(i8x16.swizzle(b, i8x16(0, -1, -1, -1, 3, -1, -1, -1, 6, -1, -1, -1, 9, -1, -1, -1)));
      const g = f32x4.convert_i32x4_s(i8x16.swizzle(b, i8x16(1, -1, -1, -1, 4, -1, -1, -1, 7, -1, -1, -1, 10, -1, -1, -1)));
      const bl = f32x4.convert_i32x4_s(i8x16.swizzle(b, i8x16(2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1)));
      const d = f32x4.floor(f32x4.add(f32x4.add(f32x4.add(f32x4.mul(r, wr), f32x4.mul(g, wg)), f32x4.mul(bl, wb)), half));
      lanes = i32x4.add(lanes, i32x4.trunc_sat_f32x4_s(d));
    }
    sum = <i64>i32x4.extract_lane(lanes, 0) + <i64>i32x4.extract_lane(lanes, 1) + <i64>i32x4.extract_lane(lanes, 2) + <i64>i32x4.extract_lane(lanes, 3);
    for (; i < pixels * 3; i += 3) sum += <i64>gray(src, i);
  } else {
    for (let i = 0; i < pixels; i++) sum += <i64>load<u8>(src + i);
  }
  const mean: f32 = <f32>(<f64>sum / <f64>pixels);
  const rounded = Mathf.floor(mean + 0.5);
  constantBlendTable(rounded, factor, lut);
  applyTable(src, dst, pixels * c, lut);
}

function color(src: usize, dst: usize, pixels: i32, factor: f32): void {
  const size = pixels * 3;
  const fv = f32x4.splat(factor);
  const wr = f32x4.splat(LUMA_R), wg = f32x4.splat(LUMA_G), wb = f32x4.splat(LUMA_B);
  const half = f32x4.splat(0.5);
  let i = 0;
  // Four pixels (12 levels) a step: channels into lanes, gray and blends four at a time,
  // then back to RGB order. The store writes 4 bytes past the group, which the next group
  // (or the scalar tail) overwrites; the loop stops 16 bytes short of the end for that.
  for (; i + 16 <= size; i += 12) {
    const b = v128.load(src + i);
    const r = f32x4.convert_i32x4_s(i8x16.swizzle(b, i8x16(0, -1, -1, -1, 3, -1, -1, -1, 6, -1, -1, -1, 9, -1, -1, -1)));
    const g = f32x4.convert_i32x4_s(i8x16.swizzle(b, i8x16(1, -1, -1, -1, 4, -1, -1, -1, 7, -1, -1, -1, 10, -1, -1, -1)));
    const bl = f32x4.convert_i32x4_s(i8x16.swizzle(b, i8x16(2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1)));
    const d = f32x4.floor(f32x4.add(f32x4.add(f32x4.add(f32x4.mul(r, wr), f32x4.mul(g, wg)), f32x4.mul(bl, wb)), half));
    const planar = i8x16.narrow_i16x8_u(
      i16x8.narrow_i32x4_s(levelLanes(blendLanes(d, r, fv)), levelLanes(blendLanes(d, g, fv))),
      i16x8.narrow_i32x4_s(levelLanes(blendLanes(d, bl, fv)), i32x4.splat(0)),
    );
    v128.store(dst + i, i8x16.swizzle(planar, i8x16(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 13, 14, 15)));
  }
  for (; i < size; i += 3) {
    const d = gray(src, i);
    store<u8>(dst + i, blendLevel(d, levelAt(src + i), factor));
    store<u8>(dst + i + 1, blendLevel(d, levelAt(src + i + 1), factor));
    store<u8>(dst + i + 2, blendLevel(d, levelAt(src + i + 2), factor));
  }
}

/**
 * Pillow's SMOOTH level of a weighted 3x3 total t of levels (0 <= t <= 13 x 255): the
 * float ops' floor(f32(f32(t / 13) + 0.5)), which equals floor((2t + 13) / 26), which
 * equals ((2t + 13) x 10083) >> 18, for every such t (test/ops/layers.test.ts checks
 * all 3316). Integer lanes, where a float division would cost the most of the op.
 */
@inline
function smoothLevel(total: i32): i32 {
  return ((2 * total + 13) * 10083) >>> 18;
}

@inline
function smoothLevelLanes(total: v128): v128 {
  return i32x4.shr_u(i32x4.mul(i32x4.add(i32x4.shl(total, 1), i32x4.splat(13)), i32x4.splat(10083)), 18);
}

/** The blend of four levels v with their SMOOTH levels from the weighted totals (i32 lanes). */
@inline
function sharpenLanes(total: v128, v: v128, factor: v128): v128 {
  return blendLanes(f32x4.convert_i32x4_s(smoothLevelLanes(total)), v, factor);
}

function sharpness(src: usize, dst: usize, h: i32, w: i32, c: i32, factor: f32): void {
  const row = w * c;
  const size = h * row;
  if (h < 3 || w < 3) {
    memory.copy(dst, src, size);
    return;
  }
  const fv = f32x4.splat(factor);
  // The border keeps its levels (the degenerate equals the image there).
  memory.copy(dst, src, row);
  memory.copy(dst + (h - 1) * row, src + (h - 1) * row, row);
  for (let y = 1; y < h - 1; y++) {
    const start = y * row;
    for (let k = 0; k < c; k++) {
      store<u8>(dst + start + k, load<u8>(src + start + k));
      store<u8>(dst + start + row - c + k, load<u8>(src + start + row - c + k));
    }
    let i = start + c;
    const end = start + row - c;
    for (; i + 16 <= end; i += 16) {
      const p = src + i;
      const up = p - row;
      const down = p + row;
      const centre = v128.load(p);
      const lo = i16x8.add(
        i16x8.add(
          i16x8.add(i16x8.extend_low_i8x16_u(v128.load(up - c)), i16x8.extend_low_i8x16_u(v128.load(up))),
          i16x8.add(i16x8.extend_low_i8x16_u(v128.load(up + c)), i16x8.extend_low_i8x16_u(v128.load(p - c))),
        ),
        i16x8.add(
          i16x8.add(i16x8.extend_low_i8x16_u(v128.load(p + c)), i16x8.extend_low_i8x16_u(v128.load(down - c))),
          i16x8.add(i16x8.extend_low_i8x16_u(v128.load(down)), i16x8.extend_low_i8x16_u(v128.load(down + c))),
        ),
      );
      const hi = i16x8.add(
        i16x8.add(
          i16x8.add(i16x8.extend_high_i8x16_u(v128.load(up - c)), i16x8.extend_high_i8x16_u(v128.load(up))),
          i16x8.add(i16x8.extend_high_i8x16_u(v128.load(up + c)), i16x8.extend_high_i8x16_u(v128.load(p - c))),
        ),
        i16x8.add(
          i16x8.add(i16x8.extend_high_i8x16_u(v128.load(p + c)), i16x8.extend_high_i8x16_u(v128.load(down - c))),
          i16x8.add(i16x8.extend_high_i8x16_u(v128.load(down)), i16x8.extend_high_i8x16_u(v128.load(down + c))),
        ),
      );
      const five = i16x8.splat(5);
      const totalLo = i16x8.add(lo, i16x8.mul(i16x8.extend_low_i8x16_u(centre), five));
      const totalHi = i16x8.add(hi, i16x8.mul(i16x8.extend_high_i8x16_u(centre), five));
      v128.store(
        dst + i,
        packLevels(
          sharpenLanes(i32x4.extend_low_i16x8_u(totalLo), quarter0(centre), fv),
          sharpenLanes(i32x4.extend_high_i16x8_u(totalLo), quarter1(centre), fv),
          sharpenLanes(i32x4.extend_low_i16x8_u(totalHi), quarter2(centre), fv),
          sharpenLanes(i32x4.extend_high_i16x8_u(totalHi), quarter3(centre), fv),
        ),
      );
    }
    for (; i < end; i++) {
      const p = src + i;
      const up = p - row;
      const down = p + row;
      const centre = <i32>load<u8>(p);
      const total =
        <i32>load<u8>(up - c) + <i32>load<u8>(up) + <i32>load<u8>(up + c) +
        <i32>load<u8>(p - c) + 5 * centre + <i32>load<u8>(p + c) +
        <i32>load<u8>(down - c) + <i32>load<u8>(down) + <i32>load<u8>(down + c);
      store<u8>(dst + i, blendLevel(<f32>smoothLevel(total), <f32>centre, factor));
    }
  }
}

@inline
function squareStart(centre: f32, side: i32, extent: i32): i32 {
  return <i32>Mathf.floor(centre * <f32>extent - <f32>side / 2);
}

function cutout(src: usize, dst: usize, h: i32, w: i32, c: i32, side: i32, centreRow: f32, centreColumn: f32, fill: u8): void {
  memory.copy(dst, src, h * w * c);
  const top = squareStart(centreRow, side, h);
  const left = squareStart(centreColumn, side, w);
  const y0 = max(0, top), y1 = min(h, top + side);
  const x0 = max(0, left), x1 = min(w, left + side);
  if (x1 <= x0) return;
  for (let y = y0; y < y1; y++) memory.fill(dst + (y * w + x0) * c, fill, (x1 - x0) * c);
}

/** The three levels at p (and one more, unused) as f32 lanes. */
@inline
function pixelLanes(p: usize): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p))));
}

/**
 * One 3-channel output pixel at o from the bilinear weights of its four neighbours. It
 * stores four bytes: the fourth is the next pixel's, written after this one (buffers
 * keep 16 bytes of room at the end for the last pixel's).
 */
@inline
function bilinearPixel3(src: usize, o: usize, i00: i32, i01: i32, i10: i32, i11: i32, fx: v128, fy: v128): void {
  const v00 = pixelLanes(src + i00), v01 = pixelLanes(src + i01);
  const v10 = pixelLanes(src + i10), v11 = pixelLanes(src + i11);
  const top = f32x4.add(v00, f32x4.mul(fx, f32x4.sub(v01, v00)));
  const bottom = f32x4.add(v10, f32x4.mul(fx, f32x4.sub(v11, v10)));
  const levels = levelLanes(f32x4.add(top, f32x4.mul(fy, f32x4.sub(bottom, top))));
  const narrow = i16x8.narrow_i32x4_s(levels, levels);
  v128.store32_lane(o, i8x16.narrow_i16x8_u(narrow, narrow), 0);
}

/** One output pixel of the affine warp (any channel count): warp.ts's warpForward on levels. */
@inline
function affinePixel(src: usize, o: usize, h: i32, w: i32, c: i32, sx: f32, sy: f32, bilinear: bool, fill: u8): void {
  if (!(sx >= 0 && sx < <f32>w && sy >= 0 && sy < <f32>h)) {
    for (let k = 0; k < c; k++) store<u8>(o + k, fill);
    return;
  }
  if (!bilinear) {
    const from = src + (<i32>sy * w + <i32>sx) * c;
    for (let k = 0; k < c; k++) store<u8>(o + k, load<u8>(from + k));
    return;
  }
  const bx = sx - 0.5;
  const byy = sy - 0.5;
  const x0 = <i32>Mathf.floor(bx);
  const y0 = <i32>Mathf.floor(byy);
  const fx = bx - <f32>x0;
  const fy = byy - <f32>y0;
  const cx0 = max(x0, 0);
  const cx1 = min(x0 + 1, w - 1);
  const cy0 = max(y0, 0);
  const cy1 = min(y0 + 1, h - 1);
  const i00 = (cy0 * w + cx0) * c;
  const i01 = (cy0 * w + cx1) * c;
  const i10 = (cy1 * w + cx0) * c;
  const i11 = (cy1 * w + cx1) * c;
  if (c == 3) {
    bilinearPixel3(src, o, i00, i01, i10, i11, f32x4.splat(fx), f32x4.splat(fy));
    return;
  }
  for (let k = 0; k < c; k++) {
    const v00 = levelAt(src + i00 + k), v01 = levelAt(src + i01 + k);
    const v10 = levelAt(src + i10 + k), v11 = levelAt(src + i11 + k);
    const top = v00 + fx * (v01 - v00);
    const bottom = v10 + fx * (v11 - v10);
    store<u8>(o + k, toLevel(top + fy * (bottom - top)));
  }
}

/** Lane j of four f32 lanes, splatted (a swizzle, since lane indices must be constants). */
@inline
function lane0(v: v128): v128 {
  return i8x16.swizzle(v, i8x16(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3));
}
@inline
function lane1(v: v128): v128 {
  return i8x16.swizzle(v, i8x16(4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7));
}
@inline
function lane2(v: v128): v128 {
  return i8x16.swizzle(v, i8x16(8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11));
}
@inline
function lane3(v: v128): v128 {
  return i8x16.swizzle(v, i8x16(12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15));
}

/** The four pixels at byte offsets idx (i32 lanes) from src, one per 32-bit lane (R, G, B, spare). */
@inline
function gatherPixels(src: usize, idx: v128): v128 {
  let v = v128.load32_zero(src + i32x4.extract_lane(idx, 0));
  v = v128.load32_lane(src + i32x4.extract_lane(idx, 1), v, 1);
  v = v128.load32_lane(src + i32x4.extract_lane(idx, 2), v, 2);
  return v128.load32_lane(src + i32x4.extract_lane(idx, 3), v, 3);
}

@inline
function channelLanes0(v: v128): v128 {
  return f32x4.convert_i32x4_s(i8x16.swizzle(v, i8x16(0, -1, -1, -1, 4, -1, -1, -1, 8, -1, -1, -1, 12, -1, -1, -1)));
}
@inline
function channelLanes1(v: v128): v128 {
  return f32x4.convert_i32x4_s(i8x16.swizzle(v, i8x16(1, -1, -1, -1, 5, -1, -1, -1, 9, -1, -1, -1, 13, -1, -1, -1)));
}
@inline
function channelLanes2(v: v128): v128 {
  return f32x4.convert_i32x4_s(i8x16.swizzle(v, i8x16(2, -1, -1, -1, 6, -1, -1, -1, 10, -1, -1, -1, 14, -1, -1, -1)));
}

/** The bilinear value of four lanes, in warpForward's order. */
@inline
function bilinearLanes(v00: v128, v01: v128, v10: v128, v11: v128, fx: v128, fy: v128): v128 {
  const top = f32x4.add(v00, f32x4.mul(fx, f32x4.sub(v01, v00)));
  const bottom = f32x4.add(v10, f32x4.mul(fx, f32x4.sub(v11, v10)));
  return f32x4.add(top, f32x4.mul(fy, f32x4.sub(bottom, top)));
}

/**
 * Four 3-channel output pixels whose sample points all lie inside the image: the
 * coordinates, cells and weights as lanes, then one pixel per lane.
 */
@inline
function affineQuad3(src: usize, o: usize, h: i32, w: i32, sx: v128, sy: v128, bilinear: bool): void {
  const three = i32x4.splat(3);
  const wv = i32x4.splat(w);
  if (!bilinear) {
    const from = i32x4.mul(i32x4.add(i32x4.mul(i32x4.trunc_sat_f32x4_s(sy), wv), i32x4.trunc_sat_f32x4_s(sx)), three);
    // Four bytes each, in order, so each pixel's fourth byte is overwritten by the next.
    store<u32>(o, load<u32>(src + i32x4.extract_lane(from, 0)));
    store<u32>(o + 3, load<u32>(src + i32x4.extract_lane(from, 1)));
    store<u32>(o + 6, load<u32>(src + i32x4.extract_lane(from, 2)));
    store<u32>(o + 9, load<u32>(src + i32x4.extract_lane(from, 3)));
    return;
  }
  const half = f32x4.splat(0.5);
  const bx = f32x4.sub(sx, half);
  const byy = f32x4.sub(sy, half);
  const fbx = f32x4.floor(bx);
  const fby = f32x4.floor(byy);
  const fx = f32x4.sub(bx, fbx);
  const fy = f32x4.sub(byy, fby);
  const x0 = i32x4.trunc_sat_f32x4_s(fbx);
  const y0 = i32x4.trunc_sat_f32x4_s(fby);
  const one = i32x4.splat(1);
  const zero = i32x4.splat(0);
  const cx0 = i32x4.max_s(x0, zero);
  const cx1 = i32x4.min_s(i32x4.add(x0, one), i32x4.splat(w - 1));
  const row0 = i32x4.mul(i32x4.max_s(y0, zero), wv);
  const row1 = i32x4.mul(i32x4.min_s(i32x4.add(y0, one), i32x4.splat(h - 1)), wv);
  const i00 = i32x4.mul(i32x4.add(row0, cx0), three);
  const i01 = i32x4.mul(i32x4.add(row0, cx1), three);
  const i10 = i32x4.mul(i32x4.add(row1, cx0), three);
  const i11 = i32x4.mul(i32x4.add(row1, cx1), three);
  // Channels across lanes: each corner's four pixels gathered (RGB + one spare byte
  // each) and split into R, G and B lanes, so one f32x4 op serves four pixels.
  const c00 = gatherPixels(src, i00), c01 = gatherPixels(src, i01);
  const c10 = gatherPixels(src, i10), c11 = gatherPixels(src, i11);
  const r = bilinearLanes(channelLanes0(c00), channelLanes0(c01), channelLanes0(c10), channelLanes0(c11), fx, fy);
  const g = bilinearLanes(channelLanes1(c00), channelLanes1(c01), channelLanes1(c10), channelLanes1(c11), fx, fy);
  const b = bilinearLanes(channelLanes2(c00), channelLanes2(c01), channelLanes2(c10), channelLanes2(c11), fx, fy);
  const planar = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(levelLanes(r), levelLanes(g)), i16x8.narrow_i32x4_s(levelLanes(b), i32x4.splat(0)));
  // Back to RGB order; the last four bytes are the next pixels', written after these.
  v128.store(o, i8x16.swizzle(planar, i8x16(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 13, 14, 15)));
}

function affine(src: usize, dst: usize, h: i32, w: i32, c: i32, m: usize, bilinear: bool, fill: u8): void {
  const a = load<f32>(m), b = load<f32>(m, 4), cc = load<f32>(m, 8);
  const d = load<f32>(m, 12), e = load<f32>(m, 16), f = load<f32>(m, 20);
  const av = f32x4.splat(a), dv = f32x4.splat(d), ccv = f32x4.splat(cc), fv = f32x4.splat(f);
  const laneOffsets = f32x4(0.5, 1.5, 2.5, 3.5);
  const zero = f32x4.splat(0);
  const wf = f32x4.splat(<f32>w), hf = f32x4.splat(<f32>h);
  for (let y = 0; y < h; y++) {
    const yc = <f32>y + 0.5;
    const by = b * yc;
    const ey = e * yc;
    const byv = f32x4.splat(by), eyv = f32x4.splat(ey);
    let xi = 0;
    if (c == 3) {
      for (; xi + 4 <= w; xi += 4) {
        const xc = f32x4.add(f32x4.splat(<f32>xi), laneOffsets);
        const sx = f32x4.add(f32x4.add(f32x4.mul(av, xc), byv), ccv);
        const sy = f32x4.add(f32x4.add(f32x4.mul(dv, xc), eyv), fv);
        const o = dst + (y * w + xi) * 3;
        const inside = v128.and(v128.and(f32x4.ge(sx, zero), f32x4.lt(sx, wf)), v128.and(f32x4.ge(sy, zero), f32x4.lt(sy, hf)));
        if (i32x4.all_true(inside)) {
          affineQuad3(src, o, h, w, sx, sy, bilinear);
          continue;
        }
        for (let j = 0; j < 4; j++) {
          const xcj = <f32>(xi + j) + 0.5;
          affinePixel(src, o + j * 3, h, w, 3, a * xcj + by + cc, d * xcj + ey + f, bilinear, fill);
        }
      }
    }
    for (; xi < w; xi++) {
      const xc = <f32>xi + 0.5;
      affinePixel(src, dst + (y * w + xi) * c, h, w, c, a * xc + by + cc, d * xc + ey + f, bilinear, fill);
    }
  }
}

/** floor(clip(x, 0, 255)) of `size` floats into bytes; false if one is NaN. */
function readLevels(x: usize, dst: usize, size: i32): bool {
  let finite = true;
  let i = 0;
  const zero = f32x4.splat(0);
  const top = f32x4.splat(255);
  for (; i + 16 <= size; i += 16) {
    const p = x + (<usize>i << 2);
    const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
    // NaN is the one value not equal to itself.
    const same = v128.and(v128.and(f32x4.eq(v0, v0), f32x4.eq(v1, v1)), v128.and(f32x4.eq(v2, v2), f32x4.eq(v3, v3)));
    if (!i32x4.all_true(same)) finite = false;
    const l0 = i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(v0, zero), top));
    const l1 = i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(v1, zero), top));
    const l2 = i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(v2, zero), top));
    const l3 = i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(v3, zero), top));
    v128.store(dst + i, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(l0, l1), i16x8.narrow_i32x4_s(l2, l3)));
  }
  for (; i < size; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v != v) finite = false;
    store<u8>(dst + i, toLevel(v));
  }
  return finite;
}

function writeLevels(src: usize, out: usize, size: i32): void {
  let i = 0;
  for (; i + 16 <= size; i += 16) {
    const bytes = v128.load(src + i);
    const lo = i16x8.extend_low_i8x16_u(bytes);
    const hi = i16x8.extend_high_i8x16_u(bytes);
    const p = out + (<usize>i << 2);
    v128.store(p, f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo)));
    v128.store(p, f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo)), 16);
    v128.store(p, f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi)), 32);
    v128.store(p, f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi)), 48);
  }
  for (; i < size; i++) store<f32>(out + (<usize>i << 2), levelAt(src + i));
}

/**
 * Every image of images [N,H,W,C] (float32 at x) through `layers` layers into out:
 * plan [L,N] int32 (index into the op list, -1 = skip), args [L,K,N] f32, mats
 * [L,K,N,6] f32, centres [L,N,2] f32, codes [K] i32 (op code per op index, -1 =
 * Identity). Returns -1, or the first image that holds a NaN (out is then incomplete).
 */
export function layerPass(
  x: usize, plan: usize, args: usize, mats: usize, centres: usize, codes: usize, out: usize, work: usize,
  n: i32, h: i32, w: i32, c: i32, layers: i32, k: i32, bilinear: bool, fill: f32,
): i32 {
  const size = h * w * c;
  // 16 bytes of room after each image: the 3-channel loops store 4 bytes for 3.
  const stride = align16(size + 16);
  let current = work;
  let next = work + stride;
  const lut = work + 2 * stride;
  const hist = lut + align16(3 * 256);
  const fillLevel = toLevel(fill);
  for (let s = 0; s < n; s++) {
    if (!readLevels(x + (<usize>(s * size) << 2), current, size)) return s;
    for (let l = 0; l < layers; l++) {
      const op = load<i32>(plan + (<usize>(l * n + s) << 2));
      if (op < 0) continue;
      const code = load<i32>(codes + (<usize>op << 2));
      if (code < 0) continue;
      const slot = (l * k + op) * n + s;
      const argument = load<f32>(args + (<usize>slot << 2));
      if (code <= ROTATE) affine(current, next, h, w, c, mats + (<usize>(slot * 6) << 2), bilinear, fillLevel);
      else if (code == COLOR) {
        if (c == 3) color(current, next, h * w, argument);
        else memory.copy(next, current, size);
      } else if (code == SHARPNESS) sharpness(current, next, h, w, c, argument);
      else if (code == CONTRAST) contrast(current, next, h, w, c, argument, lut);
      else if (code == CUTOUT) {
        const centre = centres + (<usize>((l * n + s) * 2) << 2);
        cutout(current, next, h, w, c, <i32>Mathf.floor(argument), load<f32>(centre), load<f32>(centre, 4), fillLevel);
      } else if (code == EQUALIZE) equalize(current, next, h, w, c, lut, hist);
      else if (code == AUTO_CONTRAST) autoContrast(current, next, size, c, lut, hist);
      else if (code == BRIGHTNESS) {
        constantBlendTable(0, argument, lut);
        applyTable(current, next, size, lut);
      }
      else if (code == SOLARIZE) solarize(current, next, size, argument);
      else if (code == POSTERIZE) posterize(current, next, size, argument);
      else if (code == INVERT) invert(current, next, size);
      else {
        pointTable(code, argument, lut);
        applyTable(current, next, size, lut);
      }
      const swap = current;
      current = next;
      next = swap;
    }
    writeLevels(current, out + (<usize>(s * size) << 2), size);
  }
  return -1;
}
