#!/usr/bin/env node
// Builds dralab's optional native addon (native/: oneDNN convolutions for the wasm backend)
// with the node-gyp that npm ships. Run by `npm install`; where oneDNN's headers are missing
// (Debian: apt-get install libdnnl-dev) it says so and leaves dralab on wasm's own
// convolutions, unless DRALAB_REQUIRE_ONEDNN=1 makes that an error (CI sets it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.env.DRALAB_REQUIRE_ONEDNN === '1';

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p !== undefined && existsSync(p));
}

function skip(reason) {
  const message = `dralab: the oneDNN addon was not built (${reason}); convolutions stay on wasm's XNNPACK`;
  if (required) {
    console.error(`${message}, but DRALAB_REQUIRE_ONEDNN=1`);
    process.exit(1);
  }
  console.warn(message);
  process.exit(0);
}

if (process.env.DRALAB_SKIP_NATIVE === '1') skip('DRALAB_SKIP_NATIVE=1');
if (!['/usr/include/dnnl.hpp', '/usr/local/include/dnnl.hpp', '/usr/include/oneapi/dnnl/dnnl.hpp'].some(existsSync)) {
  skip("oneDNN's headers are not installed: on Debian or Ubuntu, apt-get install libdnnl-dev, then npm run build:native");
}
const gyp = nodeGyp();
if (gyp === undefined) skip("npm's node-gyp was not found");
// Node's own headers where npm is set to use them (or where the system has them), so
// node-gyp never has to download them.
const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
const args = [gyp, 'rebuild', '--directory', join(root, 'native'), ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (result.status !== 0) {
  process.stderr.write(result.stdout.split('\n').filter((l) => !l.startsWith('gyp info')).join('\n'));
  process.stderr.write(result.stderr.split('\n').filter((l) => !l.startsWith('gyp info')).join('\n'));
  skip(`node-gyp failed with exit code ${result.status}`);
}
console.log('dralab: built the oneDNN addon (native/build/Release/dralab_onednn.node)');
