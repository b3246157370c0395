/**
 * The 8-bit layer pass (applyLayers: the DraLayerPass host kernel, compiled or in
 * JavaScript) against its definition, the tensor ops quantized layer by layer
 * (applyLayersComposite): the same levels bit for bit, on cpu and on wasm (where the
 * compiled pass runs in place on the backend's heap), for every operator, both
 * samplings, several fills, 1 and 3 channels, odd sizes, N = 1, flat and two-level
 * images, and the Pillow fixtures' photographs. Plus its errors and its memory.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { ALL_OP_NAMES, type OpName } from '../../src/ops';
import { isAffineOp } from '../../src/ops/geometric';
import { setSimdKernelsEnabled, simdKernelsAvailable } from '../../src/ops/kernels/simd';
import { MAX_SMOOTH_TOTAL, smoothTable } from '../../src/ops/kernels/blend';
import { applyLayers, applyLayersComposite, type LayerPlan } from '../../src/ops/layers';
import { randAugment } from '../../src/policy/frozen';
import { Rng } from '../../src/util/rng';
import { fixtureImage, loadFixtures, useTestBackend } from './helpers';

const OPS_ALL = [...ALL_OP_NAMES] as readonly OpName[];

/** Random levels with the extremes and a few special images: flat (AutoContrast, Equalize leave it), two levels. */
function testImages(rng: Rng, [n, h, w, c]: [number, number, number, number]): tf.Tensor4D {
  const size = h * w * c;
  const data = new Float32Array(n * size);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < size; i++) {
      const u = rng.next();
      let v = Math.floor(rng.next() * 256);
      if (u < 0.03) v = 0;
      else if (u < 0.06) v = 255;
      if (s % 7 === 3) v = 97; // flat
      if (s % 7 === 5) v = i % 5 === 0 ? 10 : 200; // two levels
      data[s * size + i] = v;
    }
  }
  return tf.tensor4d(data, [n, h, w, c]);
}

/** Layer 1 runs every op once (and a skipped sample), later layers pick at random. */
function plans(rng: Rng, n: number, layers: number, ops: readonly OpName[]): LayerPlan[] {
  return Array.from({ length: layers }, (_, l) => ({
    opIndex: Int32Array.from({ length: n }, (_, i) => (l === 0 ? (i % (ops.length + 1)) - 1 : rng.int(ops.length + 1) - 1)),
    magnitude: Float32Array.from({ length: n }, (_, i) => (i % 11 === 0 ? 1 : i % 13 === 0 ? 0 : rng.next())),
    sign: rng.signs(n),
    cutoutCentre: rng.uniform(2 * n),
  }));
}

function levelsOf(y: tf.Tensor): Float32Array {
  const values = Float32Array.from(y.dataSync());
  y.dispose();
  return values;
}

function assertSameLevels(actual: Float32Array, expected: Float32Array, what: string, shape: readonly number[], layers: readonly LayerPlan[], ops: readonly OpName[]): void {
  assert.equal(actual.length, expected.length);
  const size = shape[1]! * shape[2]! * shape[3]!;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      const s = Math.floor(i / size);
      const chain = layers.map((l) => ops[l.opIndex[s]!] ?? 'skip').join(' > ');
      assert.fail(`${what}: image ${s} (${chain}), element ${i % size}: ${actual[i]} where the quantized tensor ops give ${expected[i]}`);
    }
  }
}

const SHAPES: Array<[number, number, number, number]> = [
  [OPS_ALL.length + 3, 29, 37, 3],
  [OPS_ALL.length + 1, 23, 18, 1],
  [1, 5, 4, 3],
  [OPS_ALL.length + 1, 2, 3, 3],
];

function checkAgainstComposite(label: string): void {
  const rng = new Rng(11);
  for (const shape of SHAPES) {
    for (const interpolation of ['nearest', 'bilinear'] as const) {
      for (const fill of [0, 128, 37.5]) {
        const images = testImages(rng, shape);
        const layers = plans(rng, shape[0], 2, OPS_ALL);
        const options = { interpolation, fill };
        const actual = levelsOf(applyLayers(images, OPS_ALL, layers, options));
        const expected = levelsOf(applyLayersComposite(images, OPS_ALL, layers, options));
        assertSameLevels(actual, expected, `${label} [${shape.join('x')}] ${interpolation} fill ${fill}`, shape, layers, OPS_ALL);
        images.dispose();
      }
    }
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`applyLayers on ${backend}`, () => {
    before(async () => {
      await selectBackend({ backend, reselect: true });
    });
    after(async () => {
      setSimdKernelsEnabled(true);
      await useTestBackend();
    });

    it('the compiled pass gives the quantized tensor ops bit for bit', { skip: !simdKernelsAvailable() && 'the compiled module is not built' }, () => {
      setSimdKernelsEnabled(true);
      checkAgainstComposite('compiled');
    });

    it('the JavaScript pass gives the quantized tensor ops bit for bit', () => {
      setSimdKernelsEnabled(false);
      try {
        checkAgainstComposite('JavaScript');
      } finally {
        setSimdKernelsEnabled(true);
      }
    });

    it('reads the input as 8-bit levels: floor(clip(v, 0, 255)), as the composite does', () => {
      const images = tf.tensor4d([-3.7, 0.2, 12.5, 254.99, 255, 300, 7.999, 128.5, 64, 1e9, -1e9, 3], [1, 2, 2, 3]);
      const skip: LayerPlan = { opIndex: new Int32Array([-1]), magnitude: new Float32Array([0]), sign: new Float32Array([1]), cutoutCentre: new Float32Array(2) };
      assert.deepEqual([...levelsOf(applyLayers(images, OPS_ALL, [skip]))], [0, 0, 12, 254, 255, 255, 7, 128, 64, 255, 0, 3]);
      const invert: LayerPlan = { ...skip, opIndex: new Int32Array([OPS_ALL.indexOf('Invert')]) };
      assert.deepEqual(levelsOf(applyLayers(images, OPS_ALL, [invert])), levelsOf(applyLayersComposite(images, OPS_ALL, [invert])));
      images.dispose();
    });

    it('matches the quantized ops on the Pillow fixtures (photographs and random images), case by case', () => {
      const f = loadFixtures();
      for (const c of f.cases) {
        const im = f.images[c.image]!;
        const x = fixtureImage(f, c.image);
        const layer: LayerPlan = {
          opIndex: new Int32Array([OPS_ALL.indexOf(c.op)]),
          magnitude: new Float32Array([c.magnitude]),
          sign: new Float32Array([c.sign]),
          cutoutCentre: new Float32Array(c.centre ?? [0.5, 0.5]),
        };
        const options = { interpolation: c.interpolation ?? 'bilinear', fill: c.fill ?? 0 };
        const actual = levelsOf(applyLayers(x, OPS_ALL, [layer], options));
        const expected = levelsOf(applyLayersComposite(x, OPS_ALL, [layer], options));
        assertSameLevels(actual, expected, `fixture ${c.op} on ${im.name}`, [1, im.height, im.width, im.channels], [layer], OPS_ALL);
        // And so within Pillow's bar for the op (the op tests hold the float ops to it).
        const pil = f.outputs.subarray(c.offset, c.offset + actual.length);
        let within1 = 0;
        for (let i = 0; i < actual.length; i++) if (Math.abs(actual[i]! - pil[i]!) <= 1) within1++;
        const bar = isAffineOp(c.op) ? 0.99 : 1;
        assert.ok(within1 / actual.length >= bar, `fixture ${c.op} on ${im.name}: ${(100 * within1 / actual.length).toFixed(2)}% within 1 level of Pillow`);
        x.dispose();
      }
    });

    it('refuses NaN images with a clear error and leaves no tensor or heap memory behind', () => {
      const rng = new Rng(2);
      const images = testImages(rng, [3, 8, 8, 3]);
      const poisoned = tf.tidy(() => tf.concat([images, tf.fill([1, 8, 8, 3], Number.NaN)]) as tf.Tensor4D);
      const layers = plans(rng, 4, 2, OPS_ALL);
      const tensors = tf.memory().numTensors;
      const buffers = tf.engine().backend.numDataIds();
      assert.throws(() => applyLayers(poisoned, OPS_ALL, layers), /image 3 of the batch contains NaN/);
      assert.equal(tf.memory().numTensors, tensors);
      // The backend's own count: the kernel's output and scratch were freed, not just forgotten.
      assert.equal(tf.engine().backend.numDataIds(), buffers);
      tf.dispose([images, poisoned]);
    });

    it('keeps tf.memory() flat over repeated passes', () => {
      const rng = new Rng(4);
      const images = testImages(rng, [6, 12, 10, 3]);
      const policy = randAugment({ n: 2, m: 9 });
      tf.dispose(policy.apply(images, rng));
      const tensors = tf.memory().numTensors;
      const buffers = tf.engine().backend.numDataIds();
      for (let i = 0; i < 25; i++) tf.dispose(policy.apply(images, rng));
      assert.equal(tf.memory().numTensors, tensors);
      assert.equal(tf.engine().backend.numDataIds(), buffers);
      images.dispose();
    });
  });
}

describe('applyLayers: bad plans', () => {
  before(async () => {
    await useTestBackend();
  });

  const images = () => tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
  const plan = (over: Partial<LayerPlan> = {}): LayerPlan => ({
    opIndex: new Int32Array([0, 1]),
    magnitude: new Float32Array([0.5, 0.5]),
    sign: new Float32Array([1, -1]),
    cutoutCentre: new Float32Array(4),
    ...over,
  });

  for (const [what, layer, message] of [
    ['an opIndex past the ops', plan({ opIndex: new Int32Array([0, 17]) }), /layer 0: opIndex\[1\] = 17 is outside \[-1, 16\]/],
    ['a negative magnitude', plan({ magnitude: new Float32Array([0.5, -0.25]) }), /layer 0: magnitude\[1\] = -0.25 must be a finite number >= 0/],
    ['an infinite magnitude', plan({ magnitude: new Float32Array([Infinity, 0.5]) }), /layer 0: magnitude\[0\] = Infinity must be a finite number >= 0/],
    ['a NaN magnitude', plan({ magnitude: new Float32Array([Number.NaN, 0]) }), /magnitude\[0\] = NaN/],
    ['a sign of 0', plan({ sign: new Float32Array([1, 0]) }), /sign\[1\] = 0 must be \+1 or -1/],
    ['too few cutout centres', plan({ cutoutCentre: new Float32Array(2) }), /cutoutCentre must have 4 entries \(batch of 2\), got 2/],
  ] as const) {
    it(`names ${what}`, () => {
      const x = images();
      const tensors = tf.memory().numTensors;
      assert.throws(() => applyLayers(x, OPS_ALL, [layer]), message);
      assert.throws(() => applyLayersComposite(x, OPS_ALL, [layer]), message);
      assert.equal(tf.memory().numTensors, tensors);
      x.dispose();
    });
  }

  it('names an unknown operator', () => {
    const x = images();
    assert.throws(() => applyLayers(x, ['ShearX', 'Blur' as OpName], [plan()]), /unknown operator 'Blur'|Blur/);
    x.dispose();
  });

  it('names images of the wrong shape', () => {
    const x = tf.zeros([2, 4, 4, 2]) as tf.Tensor4D;
    assert.throws(() => applyLayers(x, OPS_ALL, [plan()]), /images must have 1 or 3 channels, got 2/);
    x.dispose();
  });
});

describe('the compiled Sharpness: integer SMOOTH levels', () => {
  it('((2t + 13) x 10083) >> 18 is the float ops’ SMOOTH level for every 8-bit total t', () => {
    // simd-source/layer-pass.ts computes SMOOTH with integer lanes instead of a float division.
    const table = smoothTable(true);
    for (let t = 0; t <= MAX_SMOOTH_TOTAL; t++) assert.equal(((2 * t + 13) * 10083) >>> 18, table[t], `total ${t}`);
  });
});

describe('the op codes shared by the TypeScript and AssemblyScript passes', () => {
  it('are each op\'s index in ALL_OP_NAMES (Identity: -1)', async () => {
    const { OP_CODE } = await import('../../src/ops/kernels/layer-pass');
    for (const name of ALL_OP_NAMES) assert.equal(OP_CODE[name], name === 'Identity' ? -1 : ALL_OP_NAMES.indexOf(name), name);
  });
});
