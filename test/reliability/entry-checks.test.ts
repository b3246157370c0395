/**
 * Careless use caught where it enters: a misspelt setting, a seed that would alias a
 * smaller one, a policy string with a part given twice or an unbounded layer count, a
 * temperature that overflows the Gumbel softmax; and SIGTERM, which a cluster scheduler
 * sends before it kills, stops at a step boundary, saves and exits 143.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select';
import { parsePolicyString } from '../../src/policy/frozen';
import { resolveSearchConfig } from '../../src/search/config';
import { DraSearch } from '../../src/search/search';
import { Rng } from '../../src/util/rng';
import { dralab, dralabSignalled } from '../helpers/cli';

const small = ['--data', 'synthetic:colour', '--model', 'tiny-cnn', '--train-count', '192', '--test-count', '32', '--batch-size', '16'];

before(async () => {
  await selectBackend({ backend: 'wasm', reselect: true });
});

describe('settings are checked where they enter', () => {
  it('an unknown setting is refused with the nearest valid name', () => {
    assert.throws(() => resolveSearchConfig({ stpes: 10 } as never), /unknown setting 'stpes' \(did you mean 'steps'\?\)/);
    assert.throws(() => resolveSearchConfig({ temprature: 0.5 } as never), /unknown setting 'temprature' \(did you mean 'temperature'\?\)/);
    assert.throws(() => resolveSearchConfig({ zzzzzzzzzz: 1 } as never), /unknown setting 'zzzzzzzzzz'$/m);
  });

  it('a seed must be an integer in [0, 2^32 - 1]: 2^32 would alias seed 0', () => {
    assert.throws(() => resolveSearchConfig({ seed: 2 ** 32 }), /seed/);
    assert.throws(() => resolveSearchConfig({ seed: -1 }), /seed/);
    assert.equal(resolveSearchConfig({ seed: 2 ** 32 - 1 }).seed, 2 ** 32 - 1);
    assert.throws(() => new Rng(-1), /seed must be an integer in \[0, 4294967295\], got -1/);
    assert.throws(() => new Rng(2 ** 32), /got 4294967296/);
    assert.throws(() => new Rng(0.5), /got 0.5/);
    const r = dralab(['search', ...small, '--seed', '4294967296', '--steps', '1', '--out', join(mkdtempSync(join(tmpdir(), 'dralab-seed-')), 'run')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--seed must be an integer in \[0, 4294967295\], got '4294967296'/);
  });

  it('a policy string with a part given twice, or an unbounded layer count, is refused at once', () => {
    assert.throws(() => parsePolicyString('rand-m9-n2-m5'), /'m' is given twice/);
    const started = performance.now();
    assert.throws(() => parsePolicyString('rand-m9-n100000'), /n \(number of layers\) must be an integer in \[1, 16\], got 100000/);
    assert.ok(performance.now() - started < 1000);
    assert.equal(parsePolicyString('rand-m9-n16').depth, 16);
  });

  for (const [what, settings, reason] of [
    // Huge but finite activations: the composite BatchNorm squares them to infinity (a
    // non-finite loss); oneDNN's normalises them, and the overflow shows in the update.
    ['a temperature that overflows the Gumbel softmax', { temperature: 1e-300 }, /non-finite policy (loss|parameters \(w, mu or sigma\))/],
    ['a policy learning rate that overflows the weights', { policyLearningRate: 1e300 }, /non-finite policy parameters \(w, mu or sigma\)/],
    ['a model learning rate that overflows the weights', { modelLearningRate: 1e300 }, /non-finite model parameters \(weights or BatchNorm statistics\)/],
    ['a KL weight that overflows the policy loss', { klWeight: 1e300 }, /non-finite policy loss/],
  ] as const) {
    it(`${what} is rejected as non-finite; nothing changes and the run stops with the reason`, async () => {
      const search = await DraSearch.create({ data: 'synthetic:colour', trainCount: 96, testCount: 16, model: 'tiny-cnn', batchSize: 16, steps: 3, onNonFinite: 'stop', ...settings });
      const before = search.policy.snapshot();
      const result = await search.run();
      assert.equal(result.reason, 'non-finite');
      assert.match(result.error!.message, reason);
      assert.match(result.error!.message, /the step was rejected and nothing changed/);
      assert.equal(search.stepCount, 0);
      assert.deepEqual(search.policy.snapshot().layers, before.layers);
      search.dispose();
    });
  }
});

describe('signals', () => {
  it('SIGINT stops at a step boundary, saves, and exits 130 (not 0: a script can tell it from a finished run)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dralab-int-')), 'run');
    const { status: code, stdout, stderr } = await dralabSignalled(['search', ...small, '--seed', '6', '--steps', '40', '--out', out, '--no-report', '--checkpoint-every', '1000'], 'SIGINT', /search \d+\/40/);
    assert.equal(code, 130, stderr);
    assert.match(stdout, /search stopped \(aborted\) at step \d+\/40/);
    assert.ok(readFileSync(join(out, 'history.jsonl'), 'utf8').includes('"type":"step"'), 'what was done is saved');
  });

  it('SIGTERM stops at a step boundary, saves, and exits 143; --resume continues', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dralab-term-')), 'run');
    const { status: code, stdout, stderr } = await dralabSignalled(['search', ...small, '--seed', '5', '--steps', '40', '--out', out, '--no-report', '--checkpoint-every', '1000'], 'SIGTERM', /search \d+\/40/);
    assert.equal(code, 143, stderr);
    assert.match(stderr, /SIGTERM: stopping at the next step boundary and saving/);
    const m = /search stopped \(aborted\) at step (\d+)\/40/.exec(stdout);
    assert.ok(m, stdout);
    const steps = readFileSync(join(out, 'history.jsonl'), 'utf8').trim().split('\n').filter((l) => l.includes('"type":"step"'));
    assert.equal(steps.length, Number(m[1]), 'the saved history ends where the run stopped');
    const resumed = dralab(['search', '--resume', out, '--no-report']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /search finished at step 40\/40/);
  });
});

describe('a resume is the run it claims to be', () => {
  it('settings given with --resume are refused by name; --steps extends the run', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dralab-resume-')), 'run');
    const run = dralab;
    const first = run(['search', ...small, '--seed', '5', '--steps', '2', '--out', out, '--no-report']);
    assert.equal(first.status, 0, first.stderr);
    const before = readFileSync(join(out, 'policy.json'), 'utf8');
    const refused = run(['search', '--resume', out, '--data', 'synthetic:orientation', '--model', 'resnet-20', '--seed', '7', '--tau', '0.1', '--no-report']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /--data, --model, --seed, --tau cannot change on resume/);
    assert.equal(readFileSync(join(out, 'policy.json'), 'utf8'), before, 'a refused resume changes nothing');
    const shorter = run(['search', '--resume', out, '--steps', '1', '--no-report']);
    assert.notEqual(shorter.status, 0);
    assert.match(shorter.stderr, /--steps 1 is below the 2 steps this run has already done/);
    const extended = run(['search', '--resume', out, '--steps', '4', '--no-report']);
    assert.equal(extended.status, 0, extended.stderr);
    assert.match(extended.stderr, /resumed .* at step 2\/4/);
    assert.match(extended.stdout, /search finished at step 4\/4/);
  });
});
