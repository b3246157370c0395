/**
 * Shared pieces of the operator tests: the backend (cpu by default, fast and exact for
 * small tensors; DRALAB_BACKEND=wasm re-runs everything on wasm), the Pillow fixtures
 * written by scripts/make_op_fixtures.py, and finite-difference gradient checks.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { type OpName, OPS, applyOp, quantizeLikePil, type ApplyOptions } from '../../src/ops';
import { Rng } from '../../src/util/rng';

export async function useTestBackend(): Promise<string> {
  const report = await selectBackend({ backend: process.env.DRALAB_BACKEND ?? 'cpu', reselect: true });
  return report.backend;
}

export interface FixtureImage {
  name: string;
  height: number;
  width: number;
  channels: number;
  offset: number;
}

export interface FixtureCase {
  op: OpName;
  image: number;
  magnitude: number;
  sign: number;
  argument: number;
  offset: number;
  interpolation?: 'nearest' | 'bilinear';
  fill?: number;
  centre?: [number, number];
}

export interface Fixtures {
  images: FixtureImage[];
  cases: FixtureCase[];
  inputs: Uint8Array;
  outputs: Uint8Array;
}

const FIXTURE_DIR = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'ops');
let cached: Fixtures | undefined;

export function loadFixtures(): Fixtures {
  if (cached) return cached;
  const index = JSON.parse(readFileSync(join(FIXTURE_DIR, 'index.json'), 'utf8')) as { images: FixtureImage[]; cases: FixtureCase[] };
  cached = {
    ...index,
    inputs: new Uint8Array(readFileSync(join(FIXTURE_DIR, 'inputs.bin'))),
    outputs: new Uint8Array(gunzipSync(readFileSync(join(FIXTURE_DIR, 'outputs.bin.gz')))),
  };
  return cached;
}

export function fixtureImage(f: Fixtures, i: number): tf.Tensor4D {
  const im = f.images[i]!;
  const size = im.height * im.width * im.channels;
  return tf.tensor4d(Float32Array.from(f.inputs.subarray(im.offset, im.offset + size)), [1, im.height, im.width, im.channels]);
}

export interface CaseResult {
  maxError: number;
  within1: number;
  exact: number;
  /** The argument the TypeScript mapper gives for this case (compare with the case's). */
  argument: number;
}

/** Runs one fixture case through applyOp and compares the PIL-quantised output to Pillow's. */
export function runCase(f: Fixtures, c: FixtureCase): CaseResult {
  const im = f.images[c.image]!;
  const size = im.height * im.width * im.channels;
  const expected = f.outputs.subarray(c.offset, c.offset + size);
  const { actual, argument } = tf.tidy(() => {
    const spec = OPS[c.op];
    const signed = spec.signed ? c.magnitude * c.sign : c.magnitude;
    const arg = spec.argument(tf.tensor1d([signed]), { height: im.height, width: im.width }).dataSync()[0]!;
    const x = fixtureImage(f, c.image);
    const options: ApplyOptions = { sign: tf.tensor1d([c.sign]) };
    if (c.interpolation) options.interpolation = c.interpolation;
    if (c.fill !== undefined) options.fill = c.fill;
    if (c.centre) options.cutoutCentre = tf.tensor2d([c.centre], [1, 2]);
    const y = quantizeLikePil(applyOp(c.op, x, tf.tensor1d([c.magnitude]), options));
    return { actual: y.dataSync(), argument: arg };
  });
  let maxError = 0;
  let within1 = 0;
  let exact = 0;
  for (let i = 0; i < size; i++) {
    const e = Math.abs(actual[i]! - expected[i]!);
    maxError = Math.max(maxError, e);
    if (e <= 1) within1++;
    if (e === 0) exact++;
  }
  return { maxError, within1: within1 / size, exact: exact / size, argument };
}

/** Per-op summary over its fixture cases. */
export function fidelity(op: OpName): { cases: number; maxError: number; minWithin1: number; meanExact: number; argumentError: number } {
  const f = loadFixtures();
  const cases = f.cases.filter((c) => c.op === op);
  assert.ok(cases.length > 0, `no fixtures for ${op}`);
  let maxError = 0;
  let minWithin1 = 1;
  let exact = 0;
  let argumentError = 0;
  for (const c of cases) {
    const r = runCase(f, c);
    argumentError = Math.max(argumentError, Math.abs(r.argument - c.argument) / Math.max(1, Math.abs(c.argument)));
    maxError = Math.max(maxError, r.maxError);
    minWithin1 = Math.min(minWithin1, r.within1);
    exact += r.exact;
  }
  return { cases: cases.length, maxError, minWithin1, meanExact: exact / cases.length, argumentError };
}

/** Integer-valued images in [20, 235] whose grayscale levels are far (>= 0.1) from PIL's rounding boundary. */
export function smoothTestImages(rng: Rng, shape: [number, number, number, number]): tf.Tensor4D {
  const [n, h, w, c] = shape;
  const data = new Float32Array(n * h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = 20 + Math.floor(rng.next() * 216);
  if (c === 3) {
    for (let p = 0; p < n * h * w; p++) {
      const gray = (19595 * data[3 * p]! + 38470 * data[3 * p + 1]! + 7471 * data[3 * p + 2]!) / 65536;
      const frac = gray - Math.floor(gray);
      if (frac > 0.4 && frac < 0.6) data[3 * p]! += 1;
    }
  }
  return tf.tensor4d(data, shape);
}

/** sum(weights * y) in float64 from a forward pass. */
function weightedSum(y: tf.Tensor, weights: Float64Array): number {
  const v = y.dataSync();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * weights[i]!;
  return s;
}

export interface GradCheck {
  /** Largest |analytic - numeric| / (|numeric| + 1) over the directions tried. */
  imageError: number;
  magnitudeError: number;
}

/**
 * Checks d/dx and d/dm of sum(weights * op(x, m)) against central differences along
 * random directions (image) and per sample (magnitude).
 */
export function checkGradients(op: OpName, x: tf.Tensor4D, magnitude: Float32Array, options: ApplyOptions, rng: Rng, eps = { image: 0.05, magnitude: 1e-3 }): GradCheck {
  const n = x.shape[0];
  const size = x.size;
  const weights = Float64Array.from(rng.uniform(size, -1, 1));
  const weightsTensor = tf.tensor(Float32Array.from(weights), x.shape);
  const f = (xx: tf.Tensor4D, mm: tf.Tensor1D) => applyOp(op, xx, mm, options);
  const [gx, gm] = tf.grads((xx: tf.Tensor, mm: tf.Tensor) => tf.sum(tf.mul(f(xx as tf.Tensor4D, mm as tf.Tensor1D), weightsTensor)))([x, tf.tensor1d(magnitude)]);
  const gxData = gx!.dataSync();
  const gmData = gm!.dataSync();
  let imageError = 0;
  for (let d = 0; d < 4; d++) {
    const dir = rng.uniform(size, -1, 1);
    let analytic = 0;
    for (let i = 0; i < size; i++) analytic += gxData[i]! * dir[i]!;
    const numeric = tf.tidy(() => {
      const v = tf.tensor(dir, x.shape);
      const m = tf.tensor1d(magnitude);
      const plus = weightedSum(f(tf.add(x, tf.mul(v, eps.image)) as tf.Tensor4D, m), weights);
      const minus = weightedSum(f(tf.sub(x, tf.mul(v, eps.image)) as tf.Tensor4D, m), weights);
      return (plus - minus) / (2 * eps.image);
    });
    imageError = Math.max(imageError, Math.abs(analytic - numeric) / (Math.abs(numeric) + 1));
  }
  let magnitudeError = 0;
  for (let s = 0; s < n; s++) {
    const numeric = tf.tidy(() => {
      const up = Float32Array.from(magnitude);
      const down = Float32Array.from(magnitude);
      up[s]! += eps.magnitude;
      down[s]! -= eps.magnitude;
      return (weightedSum(f(x, tf.tensor1d(up)), weights) - weightedSum(f(x, tf.tensor1d(down)), weights)) / (2 * eps.magnitude);
    });
    magnitudeError = Math.max(magnitudeError, Math.abs(gmData[s]! - numeric) / (Math.abs(numeric) + 1));
  }
  tf.dispose([gx!, gm!, weightsTensor]);
  return { imageError, magnitudeError };
}
