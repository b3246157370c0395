/**
 * The README's GPU recipe (scripts/gpu-setup.sh) with the npm that comes with Node 20
 * (npm 10, which has no `install-scripts` command) and with npm 11: its npm steps run in a
 * scratch project holding tfjs-node-gpu, with --ignore-scripts so that nothing downloads
 * libtensorflow. Needs the npm registry (as `npm install` does); skipped without it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '../../..');
const registryMissing = (): string | undefined => {
  const r = spawnSync('npm', ['view', '@tensorflow/tfjs-node-gpu@4.22.0', 'version'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? undefined : `the npm registry is not reachable (${(r.stderr || String(r.error)).trim().split('\n')[0]})`;
};

describe('scripts/gpu-setup.sh', { skip: registryMissing() ?? false, timeout: 600_000 }, () => {
  for (const [label, npm, major] of [
    ['npm 10 (Node 20\'s own)', 'npx --yes npm@10', '10'],
    ['npm 11', 'npx --yes npm@11', '11'],
  ] as const) {
    it(`runs its npm steps under ${label}`, () => {
      const project = mkdtempSync(join(tmpdir(), 'dralab-gpu-setup-'));
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'gpu-setup-check', version: '1.0.0', private: true, optionalDependencies: { '@tensorflow/tfjs-node-gpu': '4.22.0' } }));
      const r = spawnSync('bash', [join(REPO, 'scripts', 'gpu-setup.sh'), '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project, encoding: 'utf8', env: { ...process.env, DRALAB_NPM: npm }, timeout: 300_000 });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`gpu-setup: done with npm ${major}\\.`));
      assert.ok(existsSync(join(project, 'node_modules', '@tensorflow', 'tfjs-node-gpu', 'package.json')), 'tfjs-node-gpu installed');
      assert.equal(existsSync(join(project, 'node_modules', '@tensorflow', 'tfjs-node-gpu', 'lib', 'napi-v8')), false, 'no libtensorflow was downloaded');
    });
  }
});
