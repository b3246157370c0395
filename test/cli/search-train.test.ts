/**
 * `dralab search` and `dralab train` as a user runs them (spawned from bin/dralab.js):
 * outputs written, Ctrl-C stops at a step boundary and saves, --resume reaches the same
 * policy as an uninterrupted run, bad flags fail clearly without partial output.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dralab, dralabSignalled } from '../helpers/cli';

const small = ['--data', 'synthetic:colour', '--model', 'tiny-cnn', '--train-count', '192', '--test-count', '32', '--batch-size', '16', '--seed', '5'];


describe('dralab search', () => {
  it('writes policy.json, history.jsonl, report.html and a checkpoint, and says where', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dralab-cli-')), 'run');
    const r = dralab(['search', ...small, '--steps', '6', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /search finished at step 6\/6/);
    assert.match(r.stdout, /policy at step 6, most likely operators:\n  layer 1: \w+ p=0\.\d{3} m=/);
    assert.match(r.stdout, /planted rule of synthetic:colour, from the first snapshot to now:\n  label-destroying \(Invert, Solarize, SolarizeAdd, AutoContrast, Equalize, Color, Contrast, Brightness\): probability per layer 0\.500 -> 0\.\d{3}, mean mu 0\.50 -> /);
    assert.match(r.stdout, new RegExp(`report: +${out.replace(/[/.]/g, '\\$&')}/report\\.html`));
    assert.match(r.stderr, /search 6\/6/, 'plain progress lines when not on a terminal');
    const policy = JSON.parse(readFileSync(join(out, 'policy.json'), 'utf8'));
    assert.equal(policy.format, 'dralab.policy');
    assert.equal(policy.layers.length, 2);
    const lines = readFileSync(join(out, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.type === 'step').length, 6);
    assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('<html'));
    assert.ok(existsSync(join(out, 'checkpoint', 'manifest.json')));
    const again = dralab(['search', ...small, '--steps', '6', '--out', out]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /already holds a search; use --resume/);
  });

  it('--preset official-cifar fills what the flags leave; flags override it; the run records the preset', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dralab-cli-')), 'run');
    // The official recipe with a CPU-sized model and batch given on the command line.
    const r = dralab(['search', '--preset', 'official-cifar', ...small, '--train-count', '800', '--steps', '2', '--out', out, '--no-report']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /preset: official-cifar/);
    const manifest = JSON.parse(readFileSync(join(out, 'checkpoint', 'manifest.json'), 'utf8'));
    const config = manifest.state.config;
    assert.equal(config.preset, 'official-cifar');
    assert.equal(config.model, 'tiny-cnn');
    assert.equal(config.batchSize, 16);
    assert.equal(config.proxyFraction, 0.08);
    assert.equal(config.randomCropFlip, true);
    const bad = dralab(['search', '--preset', 'official', ...small, '--steps', '2', '--out', join(out, 'x')]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--preset.*official.*fast-cpu, official-cifar/s);
  });

  it('Ctrl-C stops at a step boundary and saves; --resume reaches the same policy as a straight run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-cli-'));
    const straight = dralab(['search', ...small, '--steps', '12', '--out', join(dir, 'straight'), '--no-report']);
    assert.equal(straight.status, 0, straight.stderr);

    const out = join(dir, 'interrupted');
    // The first progress line means steps are running.
    const { status: code, stdout, stderr } = await dralabSignalled(['search', ...small, '--steps', '12', '--out', out, '--no-report', '--checkpoint-every', '1000'], 'SIGINT', /search \d+\/12/);
    assert.equal(code, 130, `an interrupted run exits 130 after saving\n${stderr}`);
    assert.match(stderr, /SIGINT: stopping at the next step boundary and saving/);
    const m = /search stopped \(aborted\) at step (\d+)\/12/.exec(stdout);
    assert.ok(m, stdout);
    const stoppedAt = Number(m[1]);
    assert.ok(stoppedAt < 12);
    const steps = readFileSync(join(out, 'history.jsonl'), 'utf8').trim().split('\n').filter((l) => l.includes('"type":"step"'));
    assert.equal(steps.length, stoppedAt, 'the saved history ends at the step the search stopped at');

    const resumed = dralab(['search', '--resume', out, '--no-report']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`resumed .* at step ${stoppedAt}/12`));
    const a = readFileSync(join(dir, 'straight', 'policy.json'), 'utf8');
    const b = readFileSync(join(out, 'policy.json'), 'utf8');
    assert.deepEqual(JSON.parse(b).layers, JSON.parse(a).layers);
  });

  const badFlags: Array<[string[], RegExp]> = [
    [['--steps', '0'], /--steps must be an integer >= 1, got '0'/],
    [['--steps', 'ten'], /--steps must be an integer >= 1, got 'ten'/],
    [['--data', 'imagenet:/x'], /unknown dataset kind 'imagenet'/],
    [['--data', 'cifar10:/does/not/exist'], /does\/not\/exist/],
    [['--model', 'vgg-16'], /vgg-16/],
    [['--tau', '-1'], /--tau must be a number/],
    [['--proxy-fraction', '2'], /--proxy-fraction must be a number in \(0, 1\], got '2'/],
    [['--resume', '/nonexistent/run'], /--resume \/nonexistent\/run: no checkpoint/],
    [['--batch-size', '100000'], /batchSize 100000 is larger than the/],
  ];
  for (const [args, message] of badFlags) {
    it(`fails clearly on ${args.join(' ')} and writes nothing`, () => {
      const parent = mkdtempSync(join(tmpdir(), 'dralab-cli-'));
      const out = join(parent, 'run');
      const r = dralab(['search', ...small, '--steps', '2', '--out', out, ...args]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, message);
      assert.deepEqual(readdirSync(parent), [], 'no partial output');
    });
  }
});

describe('dralab train', () => {
  it('trains with a config-string policy and writes result.json', () => {
    const out = mkdtempSync(join(tmpdir(), 'dralab-train-'));
    const r = dralab(['train', ...small, '--policy', 'rand-m9-n2', '--epochs', '1', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.equal(result.format, 'dralab.train-result');
    assert.equal(result.epochs.length, 1);
    assert.ok(result.testAccuracy >= 0 && result.testAccuracy <= 1);
    assert.match(r.stdout, /test accuracy 0\.\d{4} after 1 epochs/);
  });

  it('trains with a published official policy (scale 3), with the official crop, flip and Cutout', () => {
    const out = mkdtempSync(join(tmpdir(), 'dralab-train-'));
    const r = dralab(['train', ...small, '--policy', 'official:resnet-200-imagenet', '--crop-flip', '--cutout', '16', '--epochs', '1', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.equal(result.policy, 'official:resnet-200-imagenet');
    const unknown = dralab(['train', ...small, '--policy', 'official:nope', '--epochs', '1', '--out', join(out, 'x')]);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /unknown official policy 'nope'; expected one of wrn-28-10-cifar10/);
  });

  it('rejects an invalid policy file with its problems and writes no result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-train-'));
    const policy = join(dir, 'policy.json');
    require('node:fs').writeFileSync(policy, JSON.stringify({ format: 'dralab.policy', version: 1, ops: ['Rotate', 'Blur'], layers: [{ probabilities: [0.5, 0.5], mu: [0.5, 0.5], sigma: [0, 0] }], applyProbability: [0.2, 0.8] }));
    const out = join(dir, 'out');
    const r = dralab(['train', ...small, '--policy', policy, '--epochs', '1', '--out', out]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /ops\[1\]: unknown operator 'Blur'/);
    assert.equal(existsSync(join(out, 'result.json')), false);
  });
});
