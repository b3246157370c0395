/**
 * Snapshot comparison for emitted chart specifications. Snapshots live beside the test
 * sources in test/widgets/__snapshots__ and are committed; to accept intended changes run
 * `DRALAB_UPDATE_SNAPSHOTS=1 npm test -- widgets` and review the diff.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SNAPSHOT_DIR = resolve(__dirname, '../../../test/widgets/__snapshots__');

export function matchSnapshot(name: string, content: string): void {
  const file = join(SNAPSHOT_DIR, name);
  if (process.env.DRALAB_UPDATE_SNAPSHOTS === '1' || !existsSync(file)) {
    if (process.env.CI && !existsSync(file)) assert.fail(`snapshot ${file} is missing; create it locally and commit it`);
    mkdirSync(SNAPSHOT_DIR, { recursive: true });
    writeFileSync(file, content);
    return;
  }
  const expected = readFileSync(file, 'utf8');
  assert.equal(content, expected, `${name} differs from its committed snapshot; if the change is intended run DRALAB_UPDATE_SNAPSHOTS=1 npm test -- widgets`);
}

export function matchJsonSnapshot(name: string, value: unknown): void {
  matchSnapshot(`${name}.json`, `${JSON.stringify(value, null, 1)}\n`);
}
