/**
 * The layering of docs/architecture.md, checked with dependency-cruiser
 * (.dependency-cruiser.cjs): no module imports from a layer above its own or sideways
 * within its layer, and no import cycle. Runs the same check as `npm run lint:deps`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '../..');

test('imports only go down the layers, and none goes round in a circle', () => {
  const bin = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
  const r = spawnSync(process.execPath, [bin, 'src', 'widgets', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /no dependency violations found \(\d+ modules/);
});
