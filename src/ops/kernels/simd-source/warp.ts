// AssemblyScript: the affine warp forward pass compiled to WebAssembly with SIMD
// (src/ops/kernels/simd.ts loads it; src/ops/kernels/warp.ts holds the JavaScript loop
// it must match bit for bit). Pointers are byte offsets into the memory the module is
// given: the wasm backend's own heap, or a scratch memory the cpu backend copies into.
//
// Every operation is single precision in the JavaScript loop's order (that loop rounds
// with Math.fround after each step, which equals native float32 arithmetic), so the two
// agree exactly. With 3 or 4 channels a pixel is one v128: its loads read one float
// past a 3-channel pixel and its stores write one, which the next pixel (written after
// it) overwrites; pixels where that would leave the buffer take the scalar path.

/** A v128 lane set for a pixel of `c` floats may be loaded at float index `at`. */
@inline
function fitsVector(at: i32, end: i32): bool {
  return at + 4 <= end;
}

@inline
function bilinearPixel(x: usize, oPtr: usize, i00: i32, i01: i32, i10: i32, i11: i32, fx: f32, fy: f32): void {
  const v00 = v128.load(x + (<usize>i00 << 2));
  const v01 = v128.load(x + (<usize>i01 << 2));
  const v10 = v128.load(x + (<usize>i10 << 2));
  const v11 = v128.load(x + (<usize>i11 << 2));
  const fxv = f32x4.splat(fx);
  const fyv = f32x4.splat(fy);
  const top = f32x4.add(v00, f32x4.mul(fxv, f32x4.sub(v01, v00)));
  const bottom = f32x4.add(v10, f32x4.mul(fxv, f32x4.sub(v11, v10)));
  v128.store(oPtr, f32x4.add(top, f32x4.mul(fyv, f32x4.sub(bottom, top))));
}

/** One output pixel, any channel count, v128 where it stays inside the buffers. */
@inline
function warpPixel(
  x: usize, out: usize, base: i32, h: i32, w: i32, c: i32, total: i32, vector: bool, bilinear: bool, fill: f32,
  sx: f32, sy: f32, o: i32,
): void {
  const oPtr = out + (<usize>o << 2);
  const oVector = vector && fitsVector(o, total);
  if (!(sx >= 0 && sx < <f32>w && sy >= 0 && sy < <f32>h)) {
    if (oVector) v128.store(oPtr, f32x4.splat(fill));
    else for (let k = 0; k < c; k++) store<f32>(oPtr + (<usize>k << 2), fill);
    return;
  }
  if (!bilinear) {
    const src = (base + <i32>sy * w + <i32>sx) * c;
    const sPtr = x + (<usize>src << 2);
    if (oVector && fitsVector(src, total)) v128.store(oPtr, v128.load(sPtr));
    else for (let k = 0; k < c; k++) store<f32>(oPtr + (<usize>k << 2), load<f32>(sPtr + (<usize>k << 2)));
    return;
  }
  const bx = sx - 0.5;
  const byy = sy - 0.5;
  const x0 = <i32>Mathf.floor(bx);
  const y0 = <i32>Mathf.floor(byy);
  const fx = bx - <f32>x0;
  const fy = byy - <f32>y0;
  const cx0 = min(max(x0, 0), w - 1);
  const cx1 = min(max(x0 + 1, 0), w - 1);
  const cy0 = min(max(y0, 0), h - 1);
  const cy1 = min(max(y0 + 1, 0), h - 1);
  const i00 = (base + cy0 * w + cx0) * c;
  const i01 = (base + cy0 * w + cx1) * c;
  const i10 = (base + cy1 * w + cx0) * c;
  const i11 = (base + cy1 * w + cx1) * c;
  if (oVector && fitsVector(i11, total)) {
    bilinearPixel(x, oPtr, i00, i01, i10, i11, fx, fy);
    return;
  }
  for (let k = 0; k < c; k++) {
    const kb = <usize>k << 2;
    const v00 = load<f32>(x + (<usize>i00 << 2) + kb), v01 = load<f32>(x + (<usize>i01 << 2) + kb);
    const v10 = load<f32>(x + (<usize>i10 << 2) + kb), v11 = load<f32>(x + (<usize>i11 << 2) + kb);
    const top = v00 + fx * (v01 - v00);
    const bottom = v10 + fx * (v11 - v10);
    store<f32>(oPtr + kb, top + fy * (bottom - top));
  }
}

/**
 * Four output pixels of a row at once: coordinates, cells and weights as v128 lanes,
 * then one v128 gather per source pixel. Taken only when all four sample inside the
 * image and every load and store stays inside the buffers; else the pixels go one by one.
 */
@inline
function warpQuad(
  x: usize, out: usize, base: i32, h: i32, w: i32, c: i32, total: i32, bilinear: bool,
  sx: v128, sy: v128, o: i32,
): bool {
  const zero = f32x4.splat(0);
  const inside = v128.and(
    v128.and(f32x4.ge(sx, zero), f32x4.lt(sx, f32x4.splat(<f32>w))),
    v128.and(f32x4.ge(sy, zero), f32x4.lt(sy, f32x4.splat(<f32>h))),
  );
  if (!i32x4.all_true(inside) || o + 4 * c + 1 > total) return false;
  const cv = i32x4.splat(c);
  const last = total - 4;
  const oPtr = out + (<usize>o << 2);
  const step = <usize>c << 2;
  if (!bilinear) {
    const src = i32x4.mul(i32x4.add(i32x4.splat(base), i32x4.add(i32x4.mul(i32x4.trunc_sat_f32x4_s(sy), i32x4.splat(w)), i32x4.trunc_sat_f32x4_s(sx))), cv);
    const s0 = i32x4.extract_lane(src, 0), s1 = i32x4.extract_lane(src, 1), s2 = i32x4.extract_lane(src, 2), s3 = i32x4.extract_lane(src, 3);
    if (max(max(s0, s1), max(s2, s3)) > last) return false;
    v128.store(oPtr, v128.load(x + (<usize>s0 << 2)));
    v128.store(oPtr + step, v128.load(x + (<usize>s1 << 2)));
    v128.store(oPtr + 2 * step, v128.load(x + (<usize>s2 << 2)));
    v128.store(oPtr + 3 * step, v128.load(x + (<usize>s3 << 2)));
    return true;
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
  const lo = i32x4.splat(0);
  const wMax = i32x4.splat(w - 1);
  const hMax = i32x4.splat(h - 1);
  const cx0 = i32x4.min_s(i32x4.max_s(x0, lo), wMax);
  const cx1 = i32x4.min_s(i32x4.max_s(i32x4.add(x0, one), lo), wMax);
  const row0 = i32x4.add(i32x4.splat(base), i32x4.mul(i32x4.min_s(i32x4.max_s(y0, lo), hMax), i32x4.splat(w)));
  const row1 = i32x4.add(i32x4.splat(base), i32x4.mul(i32x4.min_s(i32x4.max_s(i32x4.add(y0, one), lo), hMax), i32x4.splat(w)));
  const i00 = i32x4.mul(i32x4.add(row0, cx0), cv);
  const i01 = i32x4.mul(i32x4.add(row0, cx1), cv);
  const i10 = i32x4.mul(i32x4.add(row1, cx0), cv);
  const i11 = i32x4.mul(i32x4.add(row1, cx1), cv);
  if (v128.any_true(i32x4.gt_s(i11, i32x4.splat(last)))) return false;
  bilinearPixel(x, oPtr, i32x4.extract_lane(i00, 0), i32x4.extract_lane(i01, 0), i32x4.extract_lane(i10, 0), i32x4.extract_lane(i11, 0), f32x4.extract_lane(fx, 0), f32x4.extract_lane(fy, 0));
  bilinearPixel(x, oPtr + step, i32x4.extract_lane(i00, 1), i32x4.extract_lane(i01, 1), i32x4.extract_lane(i10, 1), i32x4.extract_lane(i11, 1), f32x4.extract_lane(fx, 1), f32x4.extract_lane(fy, 1));
  bilinearPixel(x, oPtr + 2 * step, i32x4.extract_lane(i00, 2), i32x4.extract_lane(i01, 2), i32x4.extract_lane(i10, 2), i32x4.extract_lane(i11, 2), f32x4.extract_lane(fx, 2), f32x4.extract_lane(fy, 2));
  bilinearPixel(x, oPtr + 3 * step, i32x4.extract_lane(i00, 3), i32x4.extract_lane(i01, 3), i32x4.extract_lane(i10, 3), i32x4.extract_lane(i11, 3), f32x4.extract_lane(fx, 3), f32x4.extract_lane(fy, 3));
  return true;
}

export function affineWarp(x: usize, m: usize, out: usize, n: i32, h: i32, w: i32, c: i32, bilinear: bool, fill: f32): void {
  const vector = c == 3 || c == 4;
  const total = n * h * w * c;
  const laneOffsets = f32x4(0.5, 1.5, 2.5, 3.5);
  for (let s = 0; s < n; s++) {
    const ms = m + <usize>(s * 6) * 4;
    const a = load<f32>(ms), b = load<f32>(ms, 4), cc = load<f32>(ms, 8);
    const d = load<f32>(ms, 12), e = load<f32>(ms, 16), f = load<f32>(ms, 20);
    const base = s * h * w;
    const av = f32x4.splat(a), dv = f32x4.splat(d), ccv = f32x4.splat(cc), fv = f32x4.splat(f);
    for (let y = 0; y < h; y++) {
      const yc = <f32>y + 0.5;
      const by = b * yc;
      const ey = e * yc;
      const byv = f32x4.splat(by), eyv = f32x4.splat(ey);
      let xi = 0;
      if (vector) {
        for (; xi + 4 <= w; xi += 4) {
          const xc = f32x4.add(f32x4.splat(<f32>xi), laneOffsets);
          const sx = f32x4.add(f32x4.add(f32x4.mul(av, xc), byv), ccv);
          const sy = f32x4.add(f32x4.add(f32x4.mul(dv, xc), eyv), fv);
          const o = (base + y * w + xi) * c;
          if (warpQuad(x, out, base, h, w, c, total, bilinear, sx, sy, o)) continue;
          for (let j = 0; j < 4; j++) {
            const xcj = <f32>(xi + j) + 0.5;
            warpPixel(x, out, base, h, w, c, total, vector, bilinear, fill, a * xcj + by + cc, d * xcj + ey + f, o + j * c);
          }
        }
      }
      for (; xi < w; xi++) {
        const xc = <f32>xi + 0.5;
        warpPixel(x, out, base, h, w, c, total, vector, bilinear, fill, a * xc + by + cc, d * xc + ey + f, (base + y * w + xi) * c);
      }
    }
  }
}
