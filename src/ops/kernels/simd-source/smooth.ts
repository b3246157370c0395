// AssemblyScript: the interior of Pillow's SMOOTH filter ([[1,1,1],[1,5,1],[1,1,1]] / 13,
// clipped to [0, 255], rounded half up when `round`), the forward loop of DraSmooth in
// src/ops/kernels/blend.ts compiled to WebAssembly SIMD. Same float32 operations in the
// same order, so the outputs agree bit for bit; the border rows and columns, which the
// filter copies unchanged, stay with the JavaScript caller.

@inline
function smoothLane(total: f32, round: bool): f32 {
  const clipped = min(max(total / 13, <f32>0), <f32>255);
  return round ? clipped + (Mathf.floor(clipped + 0.5) - clipped) : clipped;
}

@inline
function smoothVector(total: v128, round: bool): v128 {
  const clipped = f32x4.min(f32x4.max(f32x4.div(total, f32x4.splat(13)), f32x4.splat(0)), f32x4.splat(255));
  if (!round) return clipped;
  return f32x4.add(clipped, f32x4.sub(f32x4.floor(f32x4.add(clipped, f32x4.splat(0.5))), clipped));
}

/** Every interior element of images [N,H,W,C] at byte offset x into out. */
export function smoothInterior(x: usize, out: usize, n: i32, h: i32, w: i32, c: i32, round: bool): void {
  const row = w * c;
  const rowBytes = <usize>row << 2;
  const cBytes = <usize>c << 2;
  const four = f32x4.splat(4);
  for (let s = 0; s < n; s++) {
    for (let r = 1; r < h - 1; r++) {
      const start = (s * h + r) * row;
      let j = c;
      const end = row - c;
      for (; j + 4 <= end; j += 4) {
        const p = x + (<usize>(start + j) << 2);
        const left = f32x4.add(f32x4.add(v128.load(p - rowBytes - cBytes), v128.load(p - cBytes)), v128.load(p + rowBytes - cBytes));
        const centre = v128.load(p);
        const mid = f32x4.add(f32x4.add(v128.load(p - rowBytes), centre), v128.load(p + rowBytes));
        const right = f32x4.add(f32x4.add(v128.load(p - rowBytes + cBytes), v128.load(p + cBytes)), v128.load(p + rowBytes + cBytes));
        const box = f32x4.add(f32x4.add(left, mid), right);
        v128.store(out + (<usize>(start + j) << 2), smoothVector(f32x4.add(box, f32x4.mul(centre, four)), round));
      }
      for (; j < end; j++) {
        const p = x + (<usize>(start + j) << 2);
        const left = load<f32>(p - rowBytes - cBytes) + load<f32>(p - cBytes) + load<f32>(p + rowBytes - cBytes);
        const centre = load<f32>(p);
        const mid = load<f32>(p - rowBytes) + centre + load<f32>(p + rowBytes);
        const right = load<f32>(p - rowBytes + cBytes) + load<f32>(p + cBytes) + load<f32>(p + rowBytes + cBytes);
        store<f32>(out + (<usize>(start + j) << 2), smoothLane(left + mid + right + centre * 4, round));
      }
    }
  }
}
