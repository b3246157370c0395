#!/usr/bin/env node
// Regenerates test/fixtures/tfjs-node-kernels.json: the kernel names that
// @tensorflow/tfjs-node (and -gpu, which shares the same kernel sources) registers.
// The package is installed with --ignore-scripts into a temporary folder, so no
// libtensorflow download is attempted; kernel names are read from dist/kernels/*.js.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const version = process.argv[2] ?? '4.22.0';
const dir = mkdtempSync(join(tmpdir(), 'tfjs-node-kernels-'));
try {
  writeFileSync(join(dir, 'package.json'), '{"name":"probe","version":"0.0.0","private":true}');
  execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `@tensorflow/tfjs-node@${version}`], { cwd: dir, stdio: 'inherit' });
  const kernelDir = join(dir, 'node_modules/@tensorflow/tfjs-node/dist/kernels');
  const names = new Set();
  for (const file of readdirSync(kernelDir).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(join(kernelDir, file), 'utf8');
    for (const m of text.matchAll(/kernelName:\s*(?:[A-Za-z0-9_]+\.([A-Za-z0-9_]+)|'([A-Za-z0-9_]+)')/g)) names.add(m[1] ?? m[2]);
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), '../test/fixtures/tfjs-node-kernels.json');
  writeFileSync(out, JSON.stringify({
    provenance: `@tensorflow/tfjs-node@${version} installed with --ignore-scripts; kernelName fields of dist/kernels/*.js (scripts/extract-tfjs-node-kernels.mjs)`,
    version,
    kernels: [...names].sort(),
  }, null, 2) + '\n');
  console.log(`${names.size} kernels -> ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
