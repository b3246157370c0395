/**
 * The 16 operators written directly from the PIL formulas in the project's reference
 * notes (dra-reference.md), on one HWC uint8 RGB image, plain loops. Used only to check
 * the synthetic datasets' planted rules against what each operator does to an image;
 * the library's tensor ops are tested against PIL itself elsewhere.
 */
import type { OpName } from '../../src/ops/names';

export interface Image {
  pixels: Uint8Array;
  height: number;
  width: number;
}

const grey = (r: number, g: number, b: number): number => (19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16;

function mapPixels(img: Image, f: (v: number, channel: number) => number): Image {
  return { ...img, pixels: img.pixels.map((v, i) => f(v, i % 3)) };
}

function blend(degenerate: Uint8Array, img: Image, factor: number): Image {
  const out = new Uint8Array(img.pixels.length);
  for (let i = 0; i < out.length; i++) {
    const v = degenerate[i]! + factor * (img.pixels[i]! - degenerate[i]!);
    out[i] = Math.trunc(Math.min(255, Math.max(0, v)));
  }
  return { ...img, pixels: out };
}

/** PIL Image.transform with bilinear sampling and fill 0; (a..f) maps output to input. */
function affine(img: Image, a: number, b: number, c: number, d: number, e: number, f: number): Image {
  const { height: h, width: w, pixels } = img;
  const out = new Uint8Array(pixels.length);
  const at = (x: number, y: number, k: number): number => (x < 0 || y < 0 || x >= w || y >= h ? 0 : pixels[(y * w + x) * 3 + k]!);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = a * (x + 0.5) + b * (y + 0.5) + c - 0.5;
      const sy = d * (x + 0.5) + e * (y + 0.5) + f - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) continue;
      for (let k = 0; k < 3; k++) {
        const top = at(x0, y0, k) * (1 - fx) + at(x0 + 1, y0, k) * fx;
        const bottom = at(x0, y0 + 1, k) * (1 - fx) + at(x0 + 1, y0 + 1, k) * fx;
        out[(y * w + x) * 3 + k] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { ...img, pixels: out };
}

function perChannelLut(img: Image, makeLut: (histogram: number[]) => number[] | null): Image {
  const luts: (number[] | null)[] = [];
  for (let k = 0; k < 3; k++) {
    const histogram = new Array<number>(256).fill(0);
    for (let i = k; i < img.pixels.length; i += 3) histogram[img.pixels[i]!]!++;
    luts.push(makeLut(histogram));
  }
  return mapPixels(img, (v, k) => luts[k]?.[v] ?? v);
}

/**
 * Applies `op` at magnitude m in [0, 1] with sign +-1 (signed ops) and, for Cutout, the
 * square's centre (cx, cy) in pixels.
 */
export function applyOp(op: OpName, img: Image, m: number, sign: 1 | -1, cutoutCentre: [number, number] = [16, 16]): Image {
  const { height: h, width: w } = img;
  const factor = 1 + sign * 0.9 * m;
  switch (op) {
    case 'Identity':
      return img;
    case 'ShearX':
      return affine(img, 1, sign * 0.3 * m, 0, 0, 1, 0);
    case 'ShearY':
      return affine(img, 1, 0, 0, sign * 0.3 * m, 1, 0);
    case 'TranslateX':
      return affine(img, 1, 0, sign * 10 * m * (w / 32), 0, 1, 0);
    case 'TranslateY':
      return affine(img, 1, 0, 0, 0, 1, sign * 10 * m * (h / 32));
    case 'Rotate': {
      const angle = (sign * 30 * m * Math.PI) / 180;
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const cx = w / 2;
      const cy = h / 2;
      // Counter-clockwise as displayed: input = centre + R(-angle, y down) (output - centre).
      return affine(img, cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy);
    }
    case 'Brightness':
      return blend(new Uint8Array(img.pixels.length), img, factor);
    case 'Color': {
      const deg = new Uint8Array(img.pixels.length);
      for (let p = 0; p < deg.length; p += 3) deg.fill(grey(img.pixels[p]!, img.pixels[p + 1]!, img.pixels[p + 2]!), p, p + 3);
      return blend(deg, img, factor);
    }
    case 'Contrast': {
      let sum = 0;
      for (let p = 0; p < img.pixels.length; p += 3) sum += grey(img.pixels[p]!, img.pixels[p + 1]!, img.pixels[p + 2]!);
      const mean = Math.trunc(sum / (h * w) + 0.5);
      return blend(new Uint8Array(img.pixels.length).fill(mean), img, factor);
    }
    case 'Sharpness': {
      const deg = img.pixels.slice();
      for (let y = 1; y < h - 1; y++) {
        for (let x = 1; x < w - 1; x++) {
          for (let k = 0; k < 3; k++) {
            let s = 0;
            for (let dy = -1; dy <= 1; dy++) {
              for (let dx = -1; dx <= 1; dx++) s += img.pixels[((y + dy) * w + x + dx) * 3 + k]! * (dx === 0 && dy === 0 ? 5 : 1);
            }
            deg[(y * w + x) * 3 + k] = Math.round(s / 13);
          }
        }
      }
      return blend(deg, img, factor);
    }
    case 'Cutout': {
      const side = Math.trunc(0.2 * m * h);
      const out = img.pixels.slice();
      const y0 = Math.max(0, Math.round(cutoutCentre[1] - side / 2));
      const x0 = Math.max(0, Math.round(cutoutCentre[0] - side / 2));
      for (let y = y0; y < Math.min(h, y0 + side); y++) out.fill(0, (y * w + x0) * 3, (y * w + Math.min(w, x0 + side)) * 3);
      return { ...img, pixels: out };
    }
    case 'Solarize': {
      const threshold = 256 - 256 * m;
      return mapPixels(img, (v) => (v < threshold ? v : 255 - v));
    }
    case 'Posterize': {
      const drop = Math.trunc(4 * m);
      const mask = 0xff & ~((1 << drop) - 1);
      return mapPixels(img, (v) => v & mask);
    }
    case 'SolarizeAdd':
      return mapPixels(img, (v) => (v < 128 ? Math.min(255, Math.trunc(v + 110 * m)) : v));
    case 'Invert':
      return mapPixels(img, (v) => 255 - v);
    case 'AutoContrast':
      return perChannelLut(img, (hist) => {
        const lo = hist.findIndex((n) => n > 0);
        const hi = 255 - [...hist].reverse().findIndex((n) => n > 0);
        if (hi <= lo) return null;
        const scale = 255 / (hi - lo);
        return hist.map((_, i) => Math.min(255, Math.max(0, Math.trunc(i * scale - lo * scale))));
      });
    case 'Equalize':
      return perChannelLut(img, (hist) => {
        const nonzero = hist.filter((n) => n > 0);
        if (nonzero.length <= 1) return null;
        const step = Math.trunc((nonzero.reduce((a, b) => a + b, 0) - nonzero[nonzero.length - 1]!) / 255);
        if (step === 0) return null;
        let n = Math.trunc(step / 2);
        return hist.map((count) => {
          const value = Math.trunc(n / step);
          n += count;
          return Math.min(255, value);
        });
      });
  }
}
