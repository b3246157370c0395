/**
 * The search's forward is the official code's: the policy step sees its batch augmented
 * then cut out (Cutout 16) beside the un-augmented forward; the model step sees its batch
 * randomly cropped (zero padding 1/8) and flipped, augmented, then cut out. Crop and flip
 * are on by default, off (with a note) for a dataset whose labels a flip changes. The
 * official-cifar preset is the official recipe, and the policy optimiser uses TF's AdamW
 * epsilon. Observed by recording every training-mode forward's input.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { createModel } from '../../src/models';
import { PRESET_NAMES, resolveSearchConfig, SEARCH_DEFAULTS } from '../../src/search/config';
import { DraSearch } from '../../src/search/search';
import type { ImageSet } from '../../src/data/types';
import * as tfc from '@tensorflow/tfjs-core';

interface Forward {
  pixels: Float32Array;
  shape: number[];
  updatesStatistics: boolean;
}

/** Records the input of every training-mode forward of the search's model. */
function recordForwards(search: DraSearch): Forward[] {
  const seen: Forward[] = [];
  const model = search.model;
  const original = model.apply.bind(model);
  (model as { apply: typeof model.apply }).apply = (images, options) => {
    if (options.training) seen.push({ pixels: images.dataSync() as Float32Array, shape: [...images.shape], updatesStatistics: options.stateUpdates !== undefined });
    return original(images, options);
  };
  return seen;
}

function image(set: ImageSet, index: number): Uint8Array {
  const per = set.height * set.width * set.channels;
  return set.images.subarray(index * per, (index + 1) * per);
}

/** Pixels (y, x) where `a` and `b` differ, for one HWC image. */
function differing(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, c: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    for (let k = 0; k < c; k++) {
      const p = (y * w + x) * c + k;
      if (a[p] !== b[p]) {
        out.push([y, x]);
        break;
      }
    }
  }
  return out;
}

/** Whether every listed pixel of `img` is zero and they fit in a size x size box. */
function isCutoutSquare(points: Array<[number, number]>, img: ArrayLike<number>, w: number, c: number, size: number): boolean {
  if (points.length === 0) return true;
  const ys = points.map(([y]) => y);
  const xs = points.map(([, x]) => x);
  if (Math.max(...ys) - Math.min(...ys) >= size || Math.max(...xs) - Math.min(...xs) >= size) return false;
  return points.every(([y, x]) => Array.from({ length: c }, (_, k) => img[(y * w + x) * c + k]).every((v) => v === 0));
}

/** The image `src` cropped at offset (dy, dx) of a zero-padded copy, then flipped if asked. */
function cropFlip(src: ArrayLike<number>, h: number, w: number, c: number, dy: number, dx: number, flip: boolean): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const sy = y + dy;
    const sx = (flip ? w - 1 - x : x) + dx;
    if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
    for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = src[(sy * w + sx) * c + k]!;
  }
  return out;
}

before(async () => {
  await selectBackend({ backend: 'wasm', reselect: true });
});

describe('the search forward follows the official pipeline', () => {
  it('policy step: un-augmented and augmented + Cutout 16 forwards; model step: crop + flip, augmented, Cutout 16', async () => {
    // Closed gates make DRA the identity, so what remains is crop, flip and Cutout.
    const search = await DraSearch.create({ data: 'synthetic:colour', trainCount: 64, testCount: 16, model: 'tiny-cnn', batchSize: 8, steps: 4, seed: 3, applyProbability: [0, 0] });
    assert.equal(search.config.randomCropFlip, true);
    assert.deepEqual(search.notes, []);
    const forwards = recordForwards(search);
    await search.step();
    assert.equal(forwards.length, 3, 'a first-order step runs three training-mode forwards');
    const [ori, aug, model] = forwards as [Forward, Forward, Forward];
    const [n, h, w, c] = ori.shape as [number, number, number, number];
    const per = h * w * c;
    const policyHalf = search.proxy.policy;
    const modelHalf = search.proxy.model;
    let cutoutSeen = 0;
    let moved = 0;
    for (let i = 0; i < n; i++) {
      const o = ori.pixels.subarray(i * per, (i + 1) * per);
      // The un-augmented forward sees a policy-half image as it is (no crop, no flip).
      assert.ok(Array.from({ length: policyHalf.count }, (_, j) => j).some((j) => image(policyHalf, j).every((v, p) => v === o[p])), `policy image ${i} is not an untouched policy-half image`);
      const a = aug.pixels.subarray(i * per, (i + 1) * per);
      const cut = differing(o, a, h, w, c);
      assert.ok(isCutoutSquare(cut, a, w, c, 16), `policy image ${i}: augmented differs from the original outside one zero 16x16 square`);
      if (cut.length > 0) cutoutSeen++;
      // The model step's image: some model-half image cropped (offsets in [-4, 4]) and maybe flipped, then cut out.
      const m = model.pixels.subarray(i * per, (i + 1) * per);
      let found = false;
      for (let j = 0; j < modelHalf.count && !found; j++) {
        for (let dy = -4; dy <= 4 && !found; dy++) for (let dx = -4; dx <= 4 && !found; dx++) for (const flip of [false, true]) {
          const expected = cropFlip(image(modelHalf, j), h, w, c, dy, dx, flip);
          const off = differing(expected, m, h, w, c);
          if (off.length < 16 * 16 + 1 && isCutoutSquare(off, m, w, c, 16)) {
            found = true;
            if (dy !== 0 || dx !== 0 || flip) moved++;
            break;
          }
        }
      }
      assert.ok(found, `model image ${i} is no crop/flip of a model-half image with one Cutout square`);
    }
    assert.ok(cutoutSeen >= n - 1, `Cutout should show in (almost) every policy-step image, saw ${cutoutSeen}/${n}`);
    assert.ok(moved >= n / 2, `random crop and flip should move most model-step images, moved ${moved}/${n}`);
    assert.ok(aug.updatesStatistics && ori.updatesStatistics && model.updatesStatistics, 'every training-mode forward moves the BatchNorm running statistics, as in Keras');
    search.dispose();
  });

  it('crop and flip switch off for synthetic:orientation, saying so, unless forced', async () => {
    const auto = await DraSearch.create({ data: 'synthetic:orientation', trainCount: 32, testCount: 8, model: 'tiny-cnn', batchSize: 8, steps: 2 });
    assert.equal(auto.config.randomCropFlip, false);
    assert.match(auto.notes.join('\n'), /random crop and flip are off: a horizontal flip changes the labels of synthetic:orientation/);
    auto.dispose();
    const forced = await DraSearch.create({ data: 'synthetic:orientation', trainCount: 32, testCount: 8, model: 'tiny-cnn', batchSize: 8, steps: 2, randomCropFlip: true });
    assert.equal(forced.config.randomCropFlip, true);
    assert.deepEqual(forced.notes, []);
    forced.dispose();
  });

  it('the policy optimiser is AdamW with TensorFlow\'s epsilon 1e-7', async () => {
    const search = await DraSearch.create({ data: 'synthetic:colour', trainCount: 32, testCount: 8, model: 'tiny-cnn', batchSize: 8, steps: 2 });
    assert.equal(search.config.policyEpsilon, 1e-7);
    assert.equal(search.state.policyOptimizer.epsilon, 1e-7);
    search.dispose();
  });
});

describe('presets', () => {
  it('official-cifar is search_CIFAR.py; flags override it; fast-cpu is the default', () => {
    const official = resolveSearchConfig({ preset: 'official-cifar' });
    assert.equal(official.preset, 'official-cifar');
    assert.equal(official.model, 'wrn-28-10');
    assert.equal(official.batchSize, 128);
    assert.equal(official.proxyFraction, 0.08);
    assert.equal(official.stratified, false);
    assert.equal(official.dropout, 0.3);
    assert.equal(official.steps, 300);
    assert.equal(official.modelLearningRate, 0.1);
    assert.equal(official.policyLearningRate, 5e-3);
    assert.equal(official.cutout, 16);
    assert.equal(official.temperature, 0.5);
    assert.equal(resolveSearchConfig({ preset: 'official-cifar', batchSize: 32 }).batchSize, 32);
    assert.equal(resolveSearchConfig({}).preset, 'fast-cpu');
    assert.equal(SEARCH_DEFAULTS.model, 'tiny-cnn');
    assert.deepEqual([...PRESET_NAMES], ['fast-cpu', 'official-cifar']);
    assert.throws(() => resolveSearchConfig({ preset: 'official' as never }), /unknown preset 'official'; expected one of fast-cpu, official-cifar/);
  });
});

describe('dropout in the wide ResNets', () => {
  it('drops in training with a seed source, deterministically; not without one, nor in inference', () => {
    const make = (rate: number) => createModel('wrn-16-2', { numClasses: 3, inputShape: [8, 8, 3], affineBatchNorm: false, seed: 5, dropout: rate });
    const withDropout = make(0.3);
    const without = make(0);
    const images = tfc.randomUniform([4, 8, 8, 3], 0, 255, 'float32', 1) as tf.Tensor4D;
    const seeds = (start: number) => {
      let s = start;
      return { nextUint32: () => s++ };
    };
    const read = (t: tf.Tensor) => {
      const v = Array.from(t.dataSync());
      t.dispose();
      return v;
    };
    const a = read(withDropout.apply(images, { training: true, dropoutSeeds: seeds(10) }));
    const b = read(withDropout.apply(images, { training: true, dropoutSeeds: seeds(10) }));
    const other = read(withDropout.apply(images, { training: true, dropoutSeeds: seeds(99) }));
    const plain = read(without.apply(images, { training: true, dropoutSeeds: seeds(10) }));
    assert.deepEqual(a, b, 'same seeds, same masks');
    assert.notDeepEqual(a, other, 'other seeds, other masks');
    assert.notDeepEqual(a, plain, 'dropout 0.3 changes the training forward');
    assert.deepEqual(read(withDropout.apply(images, { training: true })), read(without.apply(images, { training: true })), 'no seed source: no dropout');
    assert.deepEqual(read(withDropout.apply(images, { training: false })), read(without.apply(images, { training: false })), 'inference: no dropout');
    images.dispose();
    withDropout.dispose();
    without.dispose();
  });
});

describe('the proxy split', () => {
  it('an unstratified split of a built-in dataset puts every class in both halves in proportion', async () => {
    for (const seed of [0, 1, 2]) {
      const search = await DraSearch.create({ data: 'synthetic:colour', trainCount: 1200, testCount: 8, model: 'tiny-cnn', batchSize: 8, steps: 2, seed, stratified: false });
      for (const [name, half] of [['model', search.proxy.model], ['policy', search.proxy.policy]] as const) {
        const counts = new Array<number>(search.dataset.numClasses).fill(0);
        for (const label of half.labels) counts[label]!++;
        // 600 images over 6 classes: 100 expected each; a random split stays within +-45 (> 4.5 sd).
        assert.ok(counts.every((n) => Math.abs(n - 100) < 45), `seed ${seed}, ${name} half: class counts ${counts.join(', ')}`);
      }
      search.dispose();
    }
  });
});
