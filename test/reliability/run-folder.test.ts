/**
 * Nothing is overwritten without consent, and output problems show before any work:
 * `search --out` into a folder holding the user's own files, `train --out` twice, the
 * original command re-run on a killed run's folder, two processes on one folder (a live
 * lock refuses, a dead one is taken over), and an output path that cannot be written.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimRunFolder, LOCK_FILE } from '../../src/util/run-folder';
import { dralab } from '../helpers/cli';

/** The PID of a process that has exited: free, so a lock or temporary file naming it is stale. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

const small = ['--data', 'synthetic:colour', '--model', 'tiny-cnn', '--train-count', '96', '--test-count', '16', '--batch-size', '16', '--seed', '3'];


describe('no silent overwrite', () => {
  it('search --out into a folder with the user\'s own policy.json and history.jsonl is refused; --force writes there', () => {
    const out = mkdtempSync(join(tmpdir(), 'dralab-own-'));
    writeFileSync(join(out, 'policy.json'), 'my policy\n');
    writeFileSync(join(out, 'history.jsonl'), 'my history\n');
    const r = dralab(['search', ...small, '--steps', '2', '--out', out, '--no-report']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--out .* already holds history\.jsonl, policy\.json; nothing was changed\..*--force/);
    assert.equal(readFileSync(join(out, 'policy.json'), 'utf8'), 'my policy\n');
    assert.equal(readFileSync(join(out, 'history.jsonl'), 'utf8'), 'my history\n');
    assert.equal(existsSync(join(out, LOCK_FILE)), false, 'a refused run leaves no lock behind');
    const forced = dralab(['search', ...small, '--steps', '2', '--out', out, '--no-report', '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(JSON.parse(readFileSync(join(out, 'policy.json'), 'utf8')).format, 'dralab.policy');
  });

  it('train --out twice keeps the first result.json unless --force', () => {
    const out = mkdtempSync(join(tmpdir(), 'dralab-train-twice-'));
    const first = dralab(['train', ...small, '--policy', 'none', '--epochs', '1', '--out', out]);
    assert.equal(first.status, 0, first.stderr);
    const kept = readFileSync(join(out, 'result.json'), 'utf8');
    const second = dralab(['train', ...small, '--policy', 'rand-m9-n2', '--epochs', '1', '--out', out]);
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, /already holds result\.json; nothing was changed/);
    assert.equal(readFileSync(join(out, 'result.json'), 'utf8'), kept);
    const forced = dralab(['train', ...small, '--policy', 'rand-m9-n2', '--epochs', '1', '--out', out, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).policy, 'rand-m9-n2');
  });

  it('the original command re-run on a killed run\'s folder keeps it and points to --resume', () => {
    const out = mkdtempSync(join(tmpdir(), 'dralab-killed-'));
    mkdirSync(join(out, 'checkpoint.old'));
    writeFileSync(join(out, 'checkpoint.old', 'manifest.json'), '{}');
    writeFileSync(join(out, 'history.jsonl.tmp-12345'), 'partial');
    const r = dralab(['search', ...small, '--steps', '2', '--out', out, '--no-report']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /already holds checkpoint\.old, history\.jsonl\.tmp-12345; nothing was changed\. .*--resume/);
    assert.ok(existsSync(join(out, 'checkpoint.old', 'manifest.json')));
  });
});

describe('temporary files', () => {
  it('a save interrupted before its rename leaves no temporary file past the next start', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dralab-tmp-')), 'run');
    const first = dralab(['search', ...small, '--steps', '2', '--out', out, '--no-report']);
    assert.equal(first.status, 0, first.stderr);
    const dead = deadPid();
    writeFileSync(join(out, `history.jsonl.tmp-${dead}`), 'half a history');
    mkdirSync(join(out, 'checkpoint.tmp'));
    const resumed = dralab(['search', '--resume', out, '--no-report']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(readdirSync(out).filter((e) => e.includes('.tmp')), []);
  });
});

describe('one writer per folder', () => {
  it('a folder locked by a live process is refused with its PID; a lock left by a dead one is taken over', () => {
    const out = mkdtempSync(join(tmpdir(), 'dralab-lock-'));
    writeFileSync(join(out, LOCK_FILE), `${process.pid}\n`);
    const r = dralab(['search', ...small, '--steps', '2', '--out', out, '--no-report', '--force']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`is in use by process ${process.pid}`));
    // A process that has exited: its PID is free.
    const dead = deadPid();
    writeFileSync(join(out, LOCK_FILE), `${dead}\n`);
    const taken = dralab(['search', ...small, '--steps', '2', '--out', out, '--no-report', '--force']);
    assert.equal(taken.status, 0, taken.stderr);
    assert.equal(existsSync(join(out, LOCK_FILE)), false, 'the lock is released when the run ends');
  });

  it('release removes only its own lock, and a lock whose process is gone is taken over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-claim-'));
    const first = claimRunFolder(dir, { label: 'dir' });
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid));
    // Another (dead) process's lock replaces ours: releasing must not delete it.
    const dead = deadPid();
    writeFileSync(join(dir, LOCK_FILE), `${dead}\n`);
    first.release();
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(dead));
    const second = claimRunFolder(dir, { label: 'dir' });
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid));
    second.release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  });
});

describe('output problems show before any work', () => {
  for (const [what, path] of [
    ['a path under /proc', '/proc/dralab-out'],
    ['a path under a file', join(mkdtempSync(join(tmpdir(), 'dralab-file-')), 'file', 'run')],
  ] as const) {
    it(`search --out ${what} fails at start, before the first step`, () => {
      if (path.includes('dralab-file-')) writeFileSync(join(path, '..'), 'a file');
      const started = performance.now();
      const r = dralab(['search', ...small, '--steps', '50', '--out', path, '--no-report']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /cannot (create|write to) --out/);
      assert.doesNotMatch(r.stderr, /search \d+\/50/, 'no step ran');
      assert.ok(performance.now() - started < 60_000);
    });
  }

  it('train --out under /proc fails at start, before any epoch (it used to hang)', () => {
    const started = performance.now();
    const r = dralab(['train', '--data', 'synthetic:colour', '--train-count', '64', '--test-count', '16', '--epochs', '2', '--out', '/proc/dralab-train-out']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot (create|write to) --out/);
    assert.doesNotMatch(r.stderr, /epoch 1\/2/, 'no epoch ran');
    assert.ok(performance.now() - started < 60_000);
  });
});

describe('kernel install', () => {
  it('registers only the kernel it names (tslab\'s installer also writes a jslab kernel, which is removed)', async () => {
    const { jupyterMissing } = await import('../notebook/jupyter');
    const missing = jupyterMissing();
    if (missing) return void console.log(`skipped: ${missing}`);
    const { installKernel } = await import('../../src/cli/kernel');
    const prefix = mkdtempSync(join(tmpdir(), 'dralab-kernel-only-'));
    installKernel({ python: '/usr/bin/python3', prefix });
    assert.deepEqual(readdirSync(join(prefix, 'share', 'jupyter', 'kernels')).sort(), ['tslab']);
  });
});
