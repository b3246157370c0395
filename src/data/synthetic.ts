/**
 * Built-in procedural datasets with planted rules, so that a search can be checked
 * against a known answer: which operators destroy the label is a property of the rule,
 * stated here and measured by test/data/synthetic.test.ts with the PIL formulas of the
 * operators.
 *
 * - `synthetic:colour`: the class is the hue of one saturated object (six hues 60
 *   degrees apart) on a grey textured background; shape, size, position, rotation,
 *   saturation, value, background brightness and a grey distractor object are random.
 *   Geometry carries no label information.
 * - `synthetic:orientation`: the class is the direction of a stripe grating (six
 *   directions 30 degrees apart); the two stripe colours, period, phase and brightness
 *   are random. Colour carries no label information.
 *
 * Generation is seeded (src/util/rng.ts) and fast: a few thousand 32x32x3 images take
 * well under a second.
 */
import type { Dataset, ImageSet } from './types';
import type { OpName } from '../ops/names';
import { checkAllocation } from '../util/memory';
import { Rng } from '../util/rng';
import { DatasetError } from './errors';

export interface SyntheticOptions {
  seed?: number;
  trainCount?: number;
  testCount?: number;
  /** [height, width]; default [32, 32]. Shapes scale with the size. */
  imageSize?: [number, number];
}

export interface SyntheticInfo {
  name: string;
  classNames: readonly string[];
  /** The rule that defines the label, in words. */
  plantedRule: string;
  /** Operators that change or erase what the rule reads for most images (at large magnitude at least). */
  labelDestroyingOps: readonly OpName[];
  /** Operators that change what the rule reads for a minority of images at large magnitude. */
  partlyDestroyingOps: readonly OpName[];
  /** Operators that leave what the rule reads intact at every magnitude. */
  harmlessOps: readonly OpName[];
  /** Whether a horizontal flip changes what the rule reads (orientation: 30 degrees becomes 150). */
  flipChangesLabels: boolean;
  /** Why each operator is in its list, or in neither. */
  opNotes: Readonly<Partial<Record<OpName, string>>>;
  /** The planted rule as a function of one HWC uint8 image: class index, or -1 when the cue is gone. */
  oracle(image: Uint8Array, height: number, width: number): number;
}

const DEFAULT_TRAIN = 4000;
const DEFAULT_TEST = 1000;

/**
 * Fills `out` with zero-mean uniform noise of the given std, four samples per 32-bit
 * draw (one byte each): per-pixel noise is most of the generation time.
 */
function fillNoise(rng: Rng, out: Float32Array, std: number): void {
  // A uniform byte has std sqrt((256^2 - 1) / 12) ~ 73.9.
  const scale = std / 73.9;
  for (let p = 0; p < out.length; p += 4) {
    const u = rng.nextUint32();
    out[p] = ((u & 0xff) - 127.5) * scale;
    if (p + 1 < out.length) out[p + 1] = (((u >>> 8) & 0xff) - 127.5) * scale;
    if (p + 2 < out.length) out[p + 2] = (((u >>> 16) & 0xff) - 127.5) * scale;
    if (p + 3 < out.length) out[p + 3] = ((u >>> 24) - 127.5) * scale;
  }
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

function hsvToRgb(hueDeg: number, s: number, v: number): [number, number, number] {
  const h = (((hueDeg % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const m = v - c;
  const [r, g, b] =
    h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}

/** Balanced labels 0..K-1 in random order. */
function balancedLabels(rng: Rng, count: number, numClasses: number): Int32Array {
  const order = rng.permutation(count);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[order[i]!] = i % numClasses;
  return labels;
}

// ---------------------------------------------------------------------------
// synthetic:colour

const COLOUR_NAMES = ['red', 'yellow', 'green', 'cyan', 'blue', 'magenta'] as const;
const COLOUR_HUE_STEP = 360 / COLOUR_NAMES.length;
/** Object hue jitter around the class hue (class boundaries are at +-30 degrees). */
const COLOUR_HUE_JITTER = 18;
/** Chroma (max - min channel) a pixel needs to count as coloured for the rule. */
const COLOURED_CHROMA = 40;
const SHAPES = 4;

/** 1 if the point (u, v), in the shape's own rotated frame, is inside the shape of radius r. */
function insideShape(shape: number, u: number, v: number, r: number): boolean {
  switch (shape) {
    case 0:
      return u * u + v * v <= r * r;
    case 1:
      return Math.abs(u) <= 0.8 * r && Math.abs(v) <= 0.8 * r;
    case 2: {
      // Equilateral triangle with circumradius r: inside all three half-planes.
      const half = 0.5 * r;
      return v <= half && 0.866 * u - 0.5 * v <= half && -0.866 * u - 0.5 * v <= half;
    }
    default:
      return (u * u) / (r * r) + (v * v) / (0.25 * r * r) <= 1;
  }
}

function drawShape(
  image: Float32Array,
  height: number,
  width: number,
  rng: Rng,
  colour: readonly [number, number, number],
  centreRange: readonly [number, number],
  radiusRange: readonly [number, number],
): void {
  const scale = Math.min(height, width) / 32;
  const shape = rng.int(SHAPES);
  const r = (radiusRange[0] + rng.next() * (radiusRange[1] - radiusRange[0])) * scale;
  const cx = (centreRange[0] + rng.next() * (centreRange[1] - centreRange[0])) * (width / 32);
  const cy = (centreRange[0] + rng.next() * (centreRange[1] - centreRange[0])) * (height / 32);
  const angle = rng.next() * 2 * Math.PI;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(height - 1, Math.ceil(cy + r + 1));
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(width - 1, Math.ceil(cx + r + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      if (!insideShape(shape, cos * dx + sin * dy, -sin * dx + cos * dy, r)) continue;
      const p = (y * width + x) * 3;
      image[p] = colour[0];
      image[p + 1] = colour[1];
      image[p + 2] = colour[2];
    }
  }
}

function generateColourImage(
  out: Uint8Array,
  offset: number,
  label: number,
  height: number,
  width: number,
  rng: Rng,
  scratch: Float32Array,
  noise: Float32Array,
): void {
  // Grey background: a brightness level plus a low-frequency texture of two gratings,
  // evaluated separably (sin(a x + b y + c) = sin(a x) cos(b y + c) + cos(a x) sin(b y + c)).
  const level = 45 + rng.next() * 150;
  scratch.fill(0);
  const sinX = new Float64Array(width);
  const cosX = new Float64Array(width);
  for (let g = 0; g < 2; g++) {
    const amplitude = 4 + rng.next() * 18;
    const freq = (2 * Math.PI) / (6 + rng.next() * 14);
    const dir = rng.next() * Math.PI;
    const a = freq * Math.cos(dir);
    const b = freq * Math.sin(dir);
    const phase = rng.next() * 2 * Math.PI;
    for (let x = 0; x < width; x++) {
      sinX[x] = amplitude * Math.sin(a * x);
      cosX[x] = amplitude * Math.cos(a * x);
    }
    for (let y = 0; y < height; y++) {
      const sy = Math.sin(b * y + phase);
      const cy = Math.cos(b * y + phase);
      for (let x = 0; x < width; x++) {
        const t = sinX[x]! * cy + cosX[x]! * sy;
        const p = (y * width + x) * 3;
        scratch[p] = scratch[p]! + t;
      }
    }
  }
  for (let p = 0; p < height * width * 3; p += 3) {
    const v = level + scratch[p]!;
    scratch[p] = v;
    scratch[p + 1] = v;
    scratch[p + 2] = v;
  }
  // A grey distractor half the time, so the net has to find the coloured object.
  if (rng.next() < 0.5) {
    const grey = hsvToRgb(rng.next() * 360, rng.next() * 0.08, 0.15 + rng.next() * 0.85);
    drawShape(scratch, height, width, rng, grey, [6, 26], [3, 6]);
  }
  const hue = label * COLOUR_HUE_STEP + (2 * rng.next() - 1) * COLOUR_HUE_JITTER;
  const colour = hsvToRgb(hue, 0.6 + rng.next() * 0.4, 0.5 + rng.next() * 0.5);
  // Centres within [11, 21] keep part of the object in frame after a 10-pixel translate.
  drawShape(scratch, height, width, rng, colour, [11, 21], [4, 8]);
  fillNoise(rng, noise, 3 + rng.next() * 5);
  for (let p = 0; p < height * width * 3; p++) out[offset + p] = clampByte(scratch[p]! + noise[p]!);
}

function hueOf(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const chroma = max - Math.min(r, g, b);
  if (chroma === 0) return 0;
  const h = max === r ? ((g - b) / chroma + 6) % 6 : max === g ? (b - r) / chroma + 2 : (r - g) / chroma + 4;
  return h * 60;
}

/** The colour rule: chroma-weighted mean hue of the clearly coloured pixels, nearest class hue. */
export function colourOracle(image: Uint8Array, height: number, width: number): number {
  let sx = 0;
  let sy = 0;
  let coloured = 0;
  for (let p = 0; p < height * width * 3; p += 3) {
    const r = image[p]!;
    const g = image[p + 1]!;
    const b = image[p + 2]!;
    const chroma = Math.max(r, g, b) - Math.min(r, g, b);
    if (chroma < COLOURED_CHROMA) continue;
    const h = (hueOf(r, g, b) * Math.PI) / 180;
    sx += chroma * Math.cos(h);
    sy += chroma * Math.sin(h);
    coloured++;
  }
  if (coloured < 6) return -1;
  const hue = ((Math.atan2(sy, sx) * 180) / Math.PI + 360) % 360;
  return Math.round(hue / COLOUR_HUE_STEP) % COLOUR_NAMES.length;
}

// ---------------------------------------------------------------------------
// synthetic:orientation

const ORIENTATION_STEP = 30;
const ORIENTATION_NAMES = [0, 30, 60, 90, 120, 150].map((d) => `${d}deg`);
const ORIENTATION_JITTER = 6;

function luminance(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

function generateOrientationImage(
  out: Uint8Array,
  offset: number,
  label: number,
  height: number,
  width: number,
  rng: Rng,
  noise: Float32Array,
): void {
  // Stripes run along `theta`, counter-clockwise from the x axis as displayed (y up).
  const theta = ((label * ORIENTATION_STEP + (2 * rng.next() - 1) * ORIENTATION_JITTER) * Math.PI) / 180;
  const scale = Math.min(height, width) / 32;
  const period = (5 + rng.next() * 4) * scale;
  const phase = rng.next() * 2 * Math.PI;
  let c1: [number, number, number];
  let c2: [number, number, number];
  // Two random colours whose luminance differs enough for the stripes to be visible.
  do {
    c1 = [rng.next() * 255, rng.next() * 255, rng.next() * 255];
    c2 = [rng.next() * 255, rng.next() * 255, rng.next() * 255];
  } while (Math.abs(luminance(...c1) - luminance(...c2)) < 60);
  const nx = -Math.sin(theta) * ((2 * Math.PI) / period);
  const ny = Math.cos(theta) * ((2 * Math.PI) / period);
  fillNoise(rng, noise, 4 + rng.next() * 12);
  // sin(nx x - ny y + phase) evaluated separably; display y points up, hence -ny.
  const sinX = Float64Array.from({ length: width }, (_, x) => Math.sin(nx * (x + 0.5)));
  const cosX = Float64Array.from({ length: width }, (_, x) => Math.cos(nx * (x + 0.5)));
  for (let y = 0; y < height; y++) {
    const sy = Math.sin(-ny * (y + 0.5) + phase);
    const cy = Math.cos(-ny * (y + 0.5) + phase);
    for (let x = 0; x < width; x++) {
      const s = sinX[x]! * cy + cosX[x]! * sy;
      const w = 0.5 + 0.5 * Math.max(-1, Math.min(1, 2 * s));
      const q = (y * width + x) * 3;
      const p = offset + q;
      out[p] = clampByte(c1[0] + w * (c2[0] - c1[0]) + noise[q]!);
      out[p + 1] = clampByte(c1[1] + w * (c2[1] - c1[1]) + noise[q + 1]!);
      out[p + 2] = clampByte(c1[2] + w * (c2[2] - c1[2]) + noise[q + 2]!);
    }
  }
}

/**
 * The orientation rule: dominant stripe direction from the colour structure tensor
 * (gradients of the three channels summed, so stripes count whichever channel shows
 * them) over the central window (the middle 10/32 of each side), which stays filled
 * under a translate of up to 10/32 of the size or a 30-degree rotation, so zero-filled
 * borders do not vote.
 */
export function orientationOracle(image: Uint8Array, height: number, width: number): number {
  const y0 = Math.max(1, Math.round((height * 11) / 32));
  const y1 = Math.min(height - 1, Math.round((height * 21) / 32));
  const x0 = Math.max(1, Math.round((width * 11) / 32));
  const x1 = Math.min(width - 1, Math.round((width * 21) / 32));
  let jxx = 0;
  let jyy = 0;
  let jxy = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      for (let k = 0; k < 3; k++) {
        const gx = image[(y * width + x + 1) * 3 + k]! - image[(y * width + x - 1) * 3 + k]!;
        const gy = image[((y - 1) * width + x) * 3 + k]! - image[((y + 1) * width + x) * 3 + k]!; // y up
        jxx += gx * gx;
        jyy += gy * gy;
        jxy += gx * gy;
      }
    }
  }
  const trace = jxx + jyy;
  if (trace === 0) return -1;
  const coherence = Math.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy) / trace;
  if (coherence < 0.2) return -1;
  // The gradient points across the stripes; the stripes run 90 degrees from it.
  const normal = (0.5 * Math.atan2(2 * jxy, jxx - jyy) * 180) / Math.PI;
  const direction = (((normal + 90) % 180) + 180) % 180;
  return Math.round(direction / ORIENTATION_STEP) % ORIENTATION_NAMES.length;
}

// ---------------------------------------------------------------------------

const GEOMETRIC_OPS: readonly OpName[] = ['ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate'];

/*
 * The op lists are measured, not guessed: test/data/synthetic.test.ts applies each
 * operator (PIL formulas) at magnitudes 0.3, 0.6 and 1 with both signs to 600 images
 * and counts how often the oracle's class changes. Destroying: at least 40% of images
 * at the worst magnitude and sign; partly destroying: more than 5% and less than 40%;
 * harmless: at most 5% at every magnitude and sign.
 */
export const SYNTHETIC_DATASETS: Readonly<Record<'colour' | 'orientation', SyntheticInfo>> = {
  colour: {
    name: 'colour',
    classNames: COLOUR_NAMES,
    plantedRule:
      `class = hue of the one saturated object (${COLOUR_NAMES.join(', ')}: hues 0, 60, ..., 300 degrees, ` +
      `jitter +-${COLOUR_HUE_JITTER}); grey textured background of random brightness, grey distractor, ` +
      'shape/size/position/rotation random',
    labelDestroyingOps: ['Invert', 'Solarize', 'SolarizeAdd', 'AutoContrast', 'Equalize', 'Color', 'Contrast', 'Brightness'],
    partlyDestroyingOps: [],
    harmlessOps: [...GEOMETRIC_OPS, 'Sharpness', 'Cutout', 'Posterize'],
    opNotes: {
      Invert: 'maps hue h to h + 180 at any magnitude: every class becomes the opposite class exactly (red <-> cyan, ...): 100%',
      Solarize: 'inverts only the channels above the threshold, changing the hue: about 55% at magnitude 0.3 to 0.6, 100% at 1 (a full Invert)',
      SolarizeAdd: 'adds to the channels below 128 only, shifting hues and washing the object out: 0% at 0.3, about 10% at 0.6, about 60% at 1',
      AutoContrast: 'stretches each channel on its own: the grey background turns the opposite hue of the object and outweighs it (about 90%)',
      Equalize: 'equalises each channel on its own, colouring the background like AutoContrast (about 50%)',
      Color: 'a factor below 1 scales chroma: 0% up to magnitude 0.6, 100% at magnitude 1 with the negative sign (factor 0.1, a grey object); the positive sign is harmless',
      Contrast: 'a factor below 1 blends towards a constant grey, shrinking chroma like Color: 100% at factor 0.1 only',
      Brightness: 'factor 0.1 leaves too little chroma to read a hue (100%); factor 1.9 clips bright channels (a few %)',
      Posterize: 'drops at most 4 low bits: the hue survives (0%)',
      Sharpness: 'a 3x3 blend inside the image: hue kept (0%)',
      Cutout: 'a square of side at most 6 pixels hides at most part of an object of radius 4 to 8 pixels (0%)',
      ShearX: 'moves pixels, hue kept (0%)',
      ShearY: 'moves pixels, hue kept (0%)',
      TranslateX: 'object centres are 11 or more pixels from the border, so part stays in frame after 10 pixels (0%)',
      TranslateY: 'object centres are 11 or more pixels from the border, so part stays in frame after 10 pixels (0%)',
      Rotate: 'moves pixels, hue kept (0%)',
    },
    flipChangesLabels: false,
    oracle: colourOracle,
  },
  orientation: {
    name: 'orientation',
    classNames: ORIENTATION_NAMES,
    plantedRule:
      `class = direction of the stripes (${ORIENTATION_NAMES.join(', ')} counter-clockwise from horizontal, jitter +-${ORIENTATION_JITTER}); ` +
      'the two stripe colours, period, phase and noise level random',
    labelDestroyingOps: ['Rotate'],
    partlyDestroyingOps: ['ShearX', 'ShearY', 'SolarizeAdd'],
    harmlessOps: [
      'TranslateX', 'TranslateY', 'Brightness', 'Color', 'Sharpness', 'Contrast', 'Cutout', 'Solarize', 'Posterize',
      'Equalize', 'AutoContrast', 'Invert',
    ],
    opNotes: {
      Rotate: 'turns the stripes: 30 degrees at magnitude 1 maps every class onto its neighbour (100%); about 75% at 0.6, 7% at 0.3',
      ShearX: 'tilts stripes that are not horizontal, by at most atan(0.3) = 16.7 degrees against class boundaries at +-15: about 22% at magnitude 1, 5% at 0.6',
      ShearY: 'tilts stripes that are not vertical, as ShearX: about 22% at magnitude 1',
      SolarizeAdd: 'lifts only the darker of two stripe colours when the other is above 128, which can erase the stripes: about 7% at magnitude 1',
      Invert: 'swaps the two stripe colours: the direction is unchanged (0%)',
      Solarize: 'changes the stripe colours but keeps the edges (at most 3%)',
      TranslateX: 'the stripes fill the frame, so a shift shows the same direction (0%)',
      TranslateY: 'the stripes fill the frame, so a shift shows the same direction (0%)',
      Cutout: 'hides a small square of a pattern that fills the frame (at most 3%)',
    },
    flipChangesLabels: true,
    oracle: orientationOracle,
  },
};

export type SyntheticName = keyof typeof SYNTHETIC_DATASETS;
export const SYNTHETIC_NAMES = Object.keys(SYNTHETIC_DATASETS) as SyntheticName[];

/** The built-in dataset a spec argument names (`colour`, `Color`, ...), or undefined. */
export function findSyntheticName(name: string): SyntheticName | undefined {
  const key = name.trim().toLowerCase() === 'color' ? 'colour' : name.trim().toLowerCase();
  return key in SYNTHETIC_DATASETS ? (key as SyntheticName) : undefined;
}

function resolveName(name: string, spec: string): SyntheticName {
  const key = findSyntheticName(name);
  if (key === undefined) {
    throw new DatasetError(`unknown synthetic dataset '${name}' in spec '${spec}'; expected one of ${SYNTHETIC_NAMES.map((n) => `synthetic:${n}`).join(', ')}`, spec);
  }
  return key;
}

function countOption(value: number | undefined, fallback: number, what: string): number {
  const count = value ?? fallback;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`${what} must be a non-negative integer, got ${count}`);
  return count;
}

function generateSet(name: SyntheticName, count: number, height: number, width: number, rng: Rng): ImageSet {
  const numClasses = SYNTHETIC_DATASETS[name].classNames.length;
  const labels = balancedLabels(rng, count, numClasses);
  const per = height * width * 3;
  const images = new Uint8Array(count * per);
  const scratch = new Float32Array(per);
  const noise = new Float32Array(per);
  for (let i = 0; i < count; i++) {
    if (name === 'colour') generateColourImage(images, i * per, labels[i]!, height, width, rng, scratch, noise);
    else generateOrientationImage(images, i * per, labels[i]!, height, width, rng, noise);
  }
  return { images, labels, count, height, width, channels: 3 };
}

/** Generates `synthetic:<name>`; the same seed gives the same bytes. */
export function generateSynthetic(name: string, options: SyntheticOptions = {}, spec = `synthetic:${name}`): Dataset {
  const key = resolveName(name, spec);
  const info = SYNTHETIC_DATASETS[key];
  const [height, width] = options.imageSize ?? [32, 32];
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 16 || width < 16) {
    throw new RangeError(`synthetic imageSize must be two integers >= 16, got ${height}x${width}`);
  }
  const seed = options.seed ?? 0;
  const trainCount = countOption(options.trainCount, DEFAULT_TRAIN, 'trainCount');
  const testCount = countOption(options.testCount, DEFAULT_TEST, 'testCount');
  const per = height * width * 3;
  checkAllocation(`synthetic:${key} with ${trainCount} train and ${testCount} test images of ${height}x${width}x3`, (trainCount + testCount) * per, Math.max(trainCount, testCount) * per);
  const root = new Rng(seed);
  // Separate streams: the test set does not change when trainCount does.
  const trainRng = root.fork();
  const testRng = root.fork();
  return {
    spec,
    numClasses: info.classNames.length,
    classNames: info.classNames,
    train: generateSet(key, trainCount, height, width, trainRng),
    test: generateSet(key, testCount, height, width, testRng),
    flipChangesLabels: info.flipChangesLabels,
    description: `synthetic:${key} (seed ${seed}): ${trainCount} train / ${testCount} test, ${height}x${width}x3, ${info.classNames.length} classes; ${info.plantedRule}`,
  };
}
