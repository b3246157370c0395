import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic, loadDataset, SYNTHETIC_DATASETS, SYNTHETIC_NAMES } from '../../src/data';
import { DRA_OP_NAMES, type DraOpName } from '../../src/ops/names';
import { Rng } from '../../src/util/rng';
import { applyOp } from './pil-formulas';

const PER = 32 * 32 * 3;

for (const name of SYNTHETIC_NAMES) {
  test(`synthetic:${name}: default size, balanced, seeded, generated in well under a second`, async () => {
    const start = performance.now();
    const data = await loadDataset(`synthetic:${name}`, { seed: 7 });
    const ms = performance.now() - start;
    console.log(`synthetic:${name} 4000 + 1000 images of 32x32x3 generated in ${ms.toFixed(0)} ms`);
    // The budget is 1 s; allow slack for a loaded 2-core test machine.
    assert.ok(ms < 2500, `generation took ${ms.toFixed(0)} ms`);
    const k = data.numClasses;
    assert.ok(k >= 4 && k <= 10);
    assert.deepEqual([data.train.count, data.test.count, data.train.height, data.train.width, data.train.channels], [4000, 1000, 32, 32, 3]);
    const counts = new Array(k).fill(0);
    for (const label of data.train.labels) counts[label]++;
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `unbalanced classes ${counts}`);
    const again = generateSynthetic(name, { seed: 7, trainCount: 4000, testCount: 1000 });
    assert.deepEqual(again.train.images, data.train.images);
    assert.deepEqual(again.test.labels, data.test.labels);
    const other = generateSynthetic(name, { seed: 8, trainCount: 50, testCount: 0 });
    assert.notDeepEqual(other.train.images, data.train.images.subarray(0, 50 * PER));
    // The test split does not depend on how many training images were asked for.
    const fewer = generateSynthetic(name, { seed: 7, trainCount: 10, testCount: 1000 });
    assert.deepEqual(fewer.test.images, data.test.images);
  });

  test(`synthetic:${name}: the planted rule (oracle) reads every generated label back`, () => {
    const data = generateSynthetic(name, { seed: 11, trainCount: 1200, testCount: 0 });
    const { oracle } = SYNTHETIC_DATASETS[name];
    for (let i = 0; i < data.train.count; i++) {
      assert.equal(oracle(data.train.images.subarray(i * PER, (i + 1) * PER), 32, 32), data.train.labels[i], `image ${i}`);
    }
  });

  test(`synthetic:${name}: the three op lists match the measured label changes of every op`, () => {
    const info = SYNTHETIC_DATASETS[name];
    const listed = [...info.labelDestroyingOps, ...info.partlyDestroyingOps, ...info.harmlessOps].sort();
    assert.deepEqual(listed, [...DRA_OP_NAMES].sort(), 'every DRA op appears in exactly one list');
    const data = generateSynthetic(name, { seed: 3, trainCount: 600, testCount: 0 });
    const worst = new Map<DraOpName, number>();
    for (const op of DRA_OP_NAMES) {
      let maxRate = 0;
      for (const m of [0.3, 0.6, 1]) {
        for (const sign of [1, -1] as const) {
          const rng = new Rng(5);
          let changed = 0;
          for (let i = 0; i < data.train.count; i++) {
            const image = { pixels: data.train.images.subarray(i * PER, (i + 1) * PER), height: 32, width: 32 };
            const out = applyOp(op, image, m, sign, [rng.next() * 32, rng.next() * 32]);
            if (info.oracle(out.pixels, 32, 32) !== data.train.labels[i]) changed++;
          }
          maxRate = Math.max(maxRate, changed / data.train.count);
        }
      }
      worst.set(op, maxRate);
    }
    console.log(`synthetic:${name} worst-case share of labels changed: ${[...worst].map(([op, r]) => `${op} ${(100 * r).toFixed(0)}%`).join(', ')}`);
    for (const op of info.labelDestroyingOps) assert.ok(worst.get(op as DraOpName)! >= 0.4, `${op} changes ${worst.get(op as DraOpName)}`);
    for (const op of info.partlyDestroyingOps) {
      const rate = worst.get(op as DraOpName)!;
      assert.ok(rate > 0.05 && rate < 0.4, `${op} changes ${rate}`);
    }
    for (const op of info.harmlessOps) assert.ok(worst.get(op as DraOpName)! <= 0.05, `${op} changes ${worst.get(op as DraOpName)}`);
  });
}

test('synthetic:colour: Invert maps every class onto the opposite hue exactly', () => {
  const data = generateSynthetic('colour', { seed: 2, trainCount: 120, testCount: 0 });
  const { oracle, classNames } = SYNTHETIC_DATASETS.colour;
  for (let i = 0; i < data.train.count; i++) {
    const image = { pixels: data.train.images.subarray(i * PER, (i + 1) * PER), height: 32, width: 32 };
    const inverted = applyOp('Invert', image, 1, 1).pixels;
    assert.equal(oracle(inverted, 32, 32), (data.train.labels[i]! + classNames.length / 2) % classNames.length);
  }
});

test('synthetic:orientation: a 30-degree counter-clockwise rotation moves each class to the next', () => {
  const data = generateSynthetic('orientation', { seed: 2, trainCount: 120, testCount: 0 });
  const { oracle, classNames } = SYNTHETIC_DATASETS.orientation;
  for (let i = 0; i < data.train.count; i++) {
    const image = { pixels: data.train.images.subarray(i * PER, (i + 1) * PER), height: 32, width: 32 };
    const rotated = applyOp('Rotate', image, 1, 1).pixels;
    assert.equal(oracle(rotated, 32, 32), (data.train.labels[i]! + 1) % classNames.length, `image ${i}`);
  }
});

test('synthetic sets scale to other sizes and accept the spelling "color"', () => {
  const data = generateSynthetic('color', { seed: 1, trainCount: 60, testCount: 6, imageSize: [48, 40] });
  assert.deepEqual([data.train.height, data.train.width], [48, 40]);
  const per = 48 * 40 * 3;
  for (let i = 0; i < 60; i++) {
    assert.equal(SYNTHETIC_DATASETS.colour.oracle(data.train.images.subarray(i * per, (i + 1) * per), 48, 40), data.train.labels[i]);
  }
});
