/**
 * Policy files and frozen policies: schema validation with clear messages, the official
 * W / M_MEAN / M_STD arrays, timm-style config strings, and frozen sampling statistics.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select';
import { DRA_OP_NAMES } from '../../src/ops/names';
import { loadFrozenPolicy, parsePolicyString, randAugment, trivialAugment, FrozenPolicy } from '../../src/policy/frozen';
import { OFFICIAL_POLICIES, OFFICIAL_POLICY_NAMES } from '../../src/policy/official';
import { magnitudeScaleOf, policyFromOfficialArrays, readPolicyFile, validatePolicy, PolicyFileError } from '../../src/policy/schema';
import { Rng } from '../../src/util/rng';

const uniform = (k: number) => Array.from({ length: k }, () => 1 / k);
function validFile(): Record<string, unknown> {
  return {
    format: 'dralab.policy',
    version: 2,
    ops: [...DRA_OP_NAMES],
    layers: [{ weights: Array(16).fill(0), probabilities: uniform(16), mu: Array(16).fill(0.5), sigma: Array(16).fill(0.1) }],
    applyProbability: [0.2, 0.8],
  };
}

before(async () => {
  await selectBackend({ backend: 'wasm', reselect: true });
});

describe('policy.json validation', () => {
  it('accepts a valid file', () => {
    const f = validatePolicy(validFile());
    assert.equal(f.layers.length, 1);
  });

  const bad: Array<[string, (f: Record<string, unknown> & { layers: Array<Record<string, unknown>> }) => void, RegExp]> = [
    ['wrong format tag', (f) => (f.format = 'other'), /format/],
    ['future version', (f) => (f.version = 3), /version 3 was written by a newer dralab/],
    ['unknown op name', (f) => ((f.ops as string[])[3] = 'Blur'), /ops\[3\]: unknown operator 'Blur'/],
    ['probabilities not summing to 1', (f) => (f.layers[0]!.probabilities = Array(16).fill(0.1)), /must sum to 1/],
    ['mu above 1 without a magnitude scale', (f) => ((f.layers[0]!.mu as number[])[2] = 1.5), /layers\[0\]\.mu\[2\]: 1.5 is above the magnitude scale 1 \(set magnitudeScale/],
    ['mu above the magnitude scale', (f) => ((f.magnitudeScale = 2), ((f.layers[0]!.mu as number[])[2] = 2.5)), /layers\[0\]\.mu\[2\]: 2.5 is above the magnitude scale 2/],
    ['a magnitude scale in a version 1 file', (f) => ((f.version = 1), (f.magnitudeScale = 2)), /magnitudeScale: needs version 2/],
    ['negative magnitude scale', (f) => (f.magnitudeScale = -1), /magnitudeScale/],
    ['negative sigma', (f) => ((f.layers[0]!.sigma as number[])[0] = -0.1), /layers\[0\]\.sigma\[0\]/],
    ['array of the wrong length', (f) => (f.layers[0]!.mu = [0.5]), /layers\[0\]\.mu: expected 16 values/],
    ['apply range reversed', (f) => (f.applyProbability = [0.8, 0.2]), /applyProbability/],
    ['apply probability above 1', (f) => (f.applyProbability = [0.2, 1.5]), /applyProbability\[1\]/],
    ['NaN in weights', (f) => ((f.layers[0]!.weights as number[])[0] = NaN), /layers\[0\]\.weights\[0\]/],
    ['no layers', (f) => (f.layers = []), /layers/],
  ];
  for (const [name, mutate, message] of bad) {
    it(`rejects ${name}`, () => {
      const f = validFile() as Record<string, unknown> & { layers: Array<Record<string, unknown>> };
      mutate(f);
      assert.throws(() => validatePolicy(f, 'my-policy.json'), (err: Error) => err instanceof PolicyFileError && message.test(err.message) && err.message.includes('my-policy.json'));
    });
  }

  it('names the file for invalid JSON and for a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-policy-'));
    const path = join(dir, 'policy.json');
    writeFileSync(path, '{"format": "dralab.policy", ');
    assert.throws(() => readPolicyFile(path), new RegExp(`invalid policy ${path.replace(/[/.]/g, '\\$&')}:[\\s\\S]*not valid JSON`));
    assert.throws(() => readPolicyFile(join(dir, 'missing.json')), /cannot read policy file .*missing\.json/);
  });

  it('loads the official W / M_MEAN / M_STD arrays exactly, with their scale', () => {
    const W = [Array.from({ length: 16 }, (_, i) => i / 10), Array(16).fill(0)];
    const f = policyFromOfficialArrays({ W, M_MEAN: [Array(16).fill(0.3), Array(16).fill(1.2)], M_STD: [Array(16).fill(0.05), Array(16).fill(0.2)] }, { scale: 3 });
    assert.equal(f.layers.length, 2);
    assert.equal(f.layers[1]!.mu[0], 1.2); // kept: the scale allows it
    assert.equal(f.magnitudeScale, 3);
    const p = f.layers[0]!.probabilities;
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.ok(p[15]! > p[0]!);
    assert.throws(() => policyFromOfficialArrays({ W, M_MEAN: [Array(16).fill(0.3), Array(16).fill(1.2)], M_STD: [Array(16).fill(0.05), Array(16).fill(0.2)] }), /mu\[0\]: 1.2 is above the magnitude scale 1/);
    assert.throws(() => policyFromOfficialArrays({ W, M_MEAN: [Array(16).fill(0.3)], M_STD: [] }), /same number of layers/);
  });

  it('reads a version 1 file (no magnitude scale) as scale 1', () => {
    const v1 = JSON.parse(JSON.stringify(validFile())) as Record<string, unknown>;
    v1.version = 1;
    delete v1.magnitudeScale;
    const f = validatePolicy(v1);
    assert.equal(f.version, 1);
    assert.equal(magnitudeScaleOf(f), 1);
  });

  it('loads every policy published with the official code exactly, ImageNet ones with scale > 1 included', () => {
    assert.equal(OFFICIAL_POLICY_NAMES.length, 7);
    for (const name of OFFICIAL_POLICY_NAMES) {
      const published = OFFICIAL_POLICIES[name];
      const policy = loadFrozenPolicy(`official:${name}`);
      assert.deepEqual(policy.ops, DRA_OP_NAMES);
      assert.equal(policy.file.magnitudeScale, published.scale, name);
      policy.file.layers.forEach((layer, d) => {
        assert.deepEqual(layer.weights, published.W[d], `${name} W[${d}]`);
        assert.deepEqual(layer.mu, published.M_MEAN[d], `${name} M_MEAN[${d}]`);
        assert.deepEqual(layer.sigma, published.M_STD[d], `${name} M_STD[${d}]`);
      });
    }
    const resnet200 = loadFrozenPolicy('official:resnet-200-imagenet');
    assert.equal(Math.max(...resnet200.file.layers.flatMap((l) => l.mu)), 1.7474);
    // Sampled magnitudes go above 1 (up to the scale) and the 8-bit pass takes them.
    const draws = resnet200.sample(200, new Rng(4));
    assert.ok(draws.some((layer) => layer.magnitude.some((m) => m > 1.5)));
    assert.throws(() => loadFrozenPolicy('official:wrn-28-10-cifar'), /unknown official policy 'wrn-28-10-cifar'; expected one of wrn-28-10-cifar10/);
  });
});

describe('frozen policies', () => {
  it('parses timm-style config strings', () => {
    const ra = parsePolicyString('rand-m9-n2-mstd0.5');
    assert.equal(ra.depth, 2);
    assert.ok(Math.abs(ra.file.layers[0]!.mu[0]! - 0.3) < 1e-12);
    assert.ok(Math.abs(ra.file.layers[0]!.sigma[0]! - 0.5 / 30) < 1e-12);
    assert.deepEqual(ra.file.applyProbability, [1, 1]);
    assert.deepEqual(parsePolicyString('rand-m7-p0.5').file.applyProbability, [0.5, 0.5]);
    assert.equal(parsePolicyString('none').file.applyProbability[1], 0);
    assert.equal(parsePolicyString('trivial').file.magnitudeDistribution, 'uniform');
    assert.throws(() => parsePolicyString('rand-n2'), /magnitude m<M> is required/);
    assert.throws(() => parsePolicyString('rand-m9-x3'), /cannot read 'x3'/);
    assert.throws(() => parsePolicyString('auto-v0'), /unknown policy string/);
    assert.throws(() => randAugment({ n: 2, m: 31 }), /magnitude/);
  });

  it('samples ops with the file probabilities, magnitudes from N(mu, sigma), and the gate', () => {
    const probabilities = Array(16).fill(0);
    probabilities[4] = 0.75; // Rotate
    probabilities[14] = 0.25; // Invert
    const mu = Array(16).fill(0.5);
    const sigma = Array(16).fill(0.1);
    const frozen = new FrozenPolicy({ format: 'dralab.policy', version: 1, ops: [...DRA_OP_NAMES], layers: [{ probabilities, mu, sigma }], applyProbability: [0.2, 0.8] });
    const n = 20000;
    const [draw] = frozen.sample(n, new Rng(11));
    let applied = 0;
    let rotate = 0;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const k = draw!.opIndex[i]!;
      if (k < 0) continue;
      applied++;
      if (k === 4) rotate++;
      else assert.equal(k, 14);
      sum += draw!.magnitude[i]!;
      sumSq += draw!.magnitude[i]! ** 2;
    }
    assert.ok(Math.abs(applied / n - 0.5) < 0.015, `apply rate ${applied / n}`);
    assert.ok(Math.abs(rotate / applied - 0.75) < 0.015, `Rotate share ${rotate / applied}`);
    const mean = sum / applied;
    const std = Math.sqrt(sumSq / applied - mean * mean);
    assert.ok(Math.abs(mean - 0.5) < 0.005 && Math.abs(std - 0.1) < 0.005, `magnitude mean ${mean} std ${std}`);
  });

  it('TrivialAugment draws magnitudes uniformly and always applies', () => {
    const [draw] = trivialAugment().sample(10000, new Rng(2));
    assert.ok(draw!.opIndex.every((k) => k >= 0));
    const mean = draw!.magnitude.reduce((a, b) => a + b, 0) / 10000;
    assert.ok(Math.abs(mean - 0.5) < 0.01);
  });
});
