/**
 * Backend selection as users meet it through `dralab info`: automatic choice with the
 * reason each faster backend was passed over, DRALAB_BACKEND / --backend forcing, and a
 * clear error (never a silent fallback) when a forced backend cannot load.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const bin = join(__dirname, '../../../bin/dralab.js');

function info(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('DRALAB_BACKEND' in env)) delete childEnv.DRALAB_BACKEND;
  const r = spawnSync(process.execPath, [bin, ...args], { env: childEnv, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('dralab info', () => {
  it('--json reports the automatic choice, why faster backends were not used, versions and threads', () => {
    const r = info(['info', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.selection, 'auto');
    assert.ok(['node-gpu', 'node', 'webgpu', 'wasm', 'cpu'].includes(report.backend));
    const order = ['node-gpu', 'node', 'webgpu', 'wasm', 'cpu'];
    const chosenAt = order.indexOf(report.backend);
    assert.deepEqual(report.attempts.map((a: { backend: string }) => a.backend), order.slice(0, chosenAt + 1), 'tried fastest first, stopped at the first that loads');
    for (const a of report.attempts.slice(0, -1)) {
      assert.equal(a.ok, false);
      assert.ok(typeof a.reason === 'string' && a.reason.length > 10, `a reason for skipping ${a.backend}`);
    }
    assert.equal(report.versions['tfjs-core'], '4.22.0');
    assert.ok(Number.isInteger(report.threads) && report.threads >= 1);
  });

  it('the text form names the backend and the reasons', () => {
    const r = info(['info']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^backend: \w/m);
    assert.match(r.stdout, /threads: \d+/);
  });

  it('DRALAB_BACKEND and --backend force a backend', () => {
    const viaEnv = JSON.parse(info(['info', '--json'], { DRALAB_BACKEND: 'cpu' }).stdout);
    assert.equal(viaEnv.backend, 'cpu');
    assert.equal(viaEnv.selection, 'forced');
    const viaFlag = JSON.parse(info(['--backend', 'wasm', 'info', '--json']).stdout);
    assert.equal(viaFlag.backend, 'wasm');
    assert.equal(viaFlag.selection, 'forced');
  });

  it('a forced backend that cannot load is an error, not a fallback', () => {
    let nodeInstalled = true;
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      nodeInstalled = false;
    }
    if (!nodeInstalled) {
      const r = info(['info'], { DRALAB_BACKEND: 'node' });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /backend 'node' was requested but cannot be used: @tensorflow\/tfjs-node is not installed/);
      assert.equal(r.stdout, '');
    }
    const bad = info(['info'], { DRALAB_BACKEND: 'tpu' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /DRALAB_BACKEND='tpu' is not a backend; expected one of node-gpu, node, webgpu, wasm, cpu/);
  });
});

describe('the wasm backend in a long-lived process', () => {
  it('leaves no process handler that turns a stray rejection into a crash', () => {
    const script = `
      const { selectBackend } = require(${JSON.stringify(join(__dirname, '../../src/backend/select.js'))});
      selectBackend({ backend: 'wasm' }).then(() => {
        Promise.reject(new Error('stray rejection in a notebook cell'));
        setTimeout(() => { console.log('still alive'); }, 50);
      });`;
    const r = spawnSync(process.execPath, ['--unhandled-rejections=warn', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /still alive/);
  });
});
