#!/usr/bin/env node
// Makes `import ... from 'dralab'` resolve inside this repository (notebooks/ run with
// their cwd here): node_modules/dralab -> the repository root. tslab type-checks cells
// with TypeScript's node10 resolution, which does not follow a package's self-reference,
// so a real node_modules entry is needed. Users who `npm install dralab` do not need this.
import { existsSync, lstatSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const link = join(root, 'node_modules', 'dralab');
if (existsSync(link) || (() => { try { return lstatSync(link).isSymbolicLink(); } catch { return false; } })()) {
  console.log(`${link} exists`);
} else {
  symlinkSync('..', link, 'dir');
  console.log(`linked ${link} -> ${root}`);
}
