import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DRA_OP_NAMES } from '../../src/ops/names';
import type { PolicySnapshot } from '../../src/search/record';
import { plantedRuleSummary, searchSummary } from '../../src/search/summary';

function snapshot(probability: (op: string) => number, mu: (op: string) => number): PolicySnapshot {
  const ops = [...DRA_OP_NAMES];
  const layer = { weights: ops.map(() => 0), probabilities: ops.map(probability), mu: ops.map(mu), sigma: ops.map(() => 0.1) };
  return { format: 'dralab.policy', version: 1, ops, layers: [layer, structuredClone(layer)], applyProbability: [0.2, 0.8] };
}

describe('search summary', () => {
  const uniform = snapshot(() => 1 / 16, () => 0.5);
  // Orientation's rule: Rotate destroys the label; ShearX, ShearY and SolarizeAdd partly.
  // The magnitude-free ops get mu 0.9: a mean that counted them would not come out at 0.60.
  const magnitudeFree = ['Equalize', 'AutoContrast', 'Invert'];
  const learned = snapshot(
    (op) => (op === 'Rotate' ? 0.01 : op === 'TranslateX' ? 0.2 : (1 - 0.21) / 14),
    (op) => (op === 'Rotate' ? 0.1 : magnitudeFree.includes(op) ? 0.9 : 0.6),
  );

  it('reports the planted groups of a synthetic dataset from start to end', () => {
    const lines = plantedRuleSummary('synthetic:orientation', uniform, learned);
    assert.equal(lines[0], 'planted rule of synthetic:orientation, from the first snapshot to now:');
    assert.equal(lines[1], '  label-destroying (Rotate): probability per layer 0.063 -> 0.010, mean mu 0.50 -> 0.10');
    assert.equal(lines[2], `  partly destroying (ShearX, ShearY, SolarizeAdd): probability per layer 0.188 -> ${((3 * 0.79) / 14).toFixed(3)}, mean mu 0.50 -> 0.60`);
    // Twelve harmless ops, three of them magnitude-free: the mean mu is over the other nine.
    assert.equal(lines[3]!.split(': ')[0], '  harmless (TranslateX, TranslateY, Brightness, Color, Sharpness, Contrast, Cutout, Solarize, Posterize, Equalize, AutoContrast, Invert)');
    assert.match(lines[3]!, new RegExp(`probability per layer 0\\.750 -> ${(0.2 + (11 * 0.79) / 14).toFixed(3)}, mean mu 0\\.50 -> 0\\.60$`));
  });

  it('says nothing of a planted rule for other datasets, and leads with the likeliest operators', () => {
    assert.deepEqual(plantedRuleSummary('cifar10:/data/cifar', uniform, learned), []);
    const text = searchSummary('cifar10:/data/cifar', uniform, learned, 40);
    assert.equal(text.split('\n')[0], 'policy at step 40, most likely operators:');
    assert.match(text.split('\n')[1]!, /^  layer 1: TranslateX p=0\.200 m=0\.60±0\.10, /);
  });
});
