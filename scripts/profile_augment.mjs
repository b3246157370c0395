#!/usr/bin/env node
// Times the operators as the DRA search runs them: every op alone (forward, and forward +
// backward w.r.t. images and magnitude) and the policy's 2-layer per-sample augmentation,
// on a batch of N x S x S x 3. Run after `npx tsc -p .`:
//   DRALAB_BACKEND=wasm node scripts/profile_augment.mjs [N=32] [S=32] [--ops] [--profile]
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core');
const { selectBackend } = require('../dist/src/backend/select.js');
const { DRA_OP_NAMES, applyOp } = require('../dist/src/ops/index.js');
const { DraPolicy } = require('../dist/src/policy/dra.js');
const { Rng } = require('../dist/src/util/rng.js');

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--'));
const n = Number(positional[0] ?? 32);
const side = Number(positional[1] ?? 32);
const report = await selectBackend({ backend: process.env.DRALAB_BACKEND ?? 'wasm' });
const rng = new Rng(0);
const images = tf.tidy(() => tf.round(tf.randomUniform([n, side, side, 3], 0, 255, 'float32', 1)));
const weights = tf.randomUniform([n, side, side, 3], -1, 1, 'float32', 2);

/** Median milliseconds of `fn` over enough rounds (the result is read back each round). */
async function time(fn, rounds = 7) {
  const once = async () => {
    const t0 = performance.now();
    const out = fn();
    await Promise.all((Array.isArray(out) ? out : [out]).map((t) => t.data()));
    tf.dispose(out);
    return performance.now() - t0;
  };
  await once();
  const ms = [];
  for (let i = 0; i < rounds; i++) ms.push(await once());
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

const before = tf.memory().numTensors;
console.log(`backend ${report.backend}, batch ${n}x${side}x${side}x3`);
if (args.includes('--ops')) {
  const magnitude = tf.fill([n], 0.3);
  const sign = tf.tensor1d(rng.signs(n));
  for (const op of DRA_OP_NAMES) {
    const forward = await time(() => applyOp(op, images, magnitude, { sign, rng }));
    const backward = await time(() =>
      tf.grads((x, m) => tf.sum(tf.mul(applyOp(op, x, m, { sign, rng }), weights)))([images, magnitude]),
    );
    console.log(`${op.padEnd(13)} forward ${forward.toFixed(1).padStart(7)} ms   forward+backward ${backward.toFixed(1).padStart(7)} ms`);
  }
  tf.dispose([magnitude, sign]);
}

const policy = new DraPolicy({ depth: 2 });
const draw = policy.sample(n, rng);
const host = await policy.weights.data();
const vars = policy.trainableVariables;
const forward = await time(() => policy.augmentWith(images, draw, host));
const backward = await time(() => {
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(policy.augmentWith(images, draw, host), weights)), vars);
  return [value, ...Object.values(grads)];
});
const withImage = await time(() => tf.grads((x) => tf.sum(tf.mul(policy.augmentWith(x, draw, host), weights)))([images]));
console.log(`DRA augment (2 layers, per-sample ops): forward ${forward.toFixed(1)} ms, forward+backward (policy) ${backward.toFixed(1)} ms, forward+backward (image) ${withImage.toFixed(1)} ms`);

if (args.includes('--profile')) {
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(policy.augmentWith(images, draw, host), weights)), vars);
    return [value, ...Object.values(grads)];
  });
  const byKernel = new Map();
  for (const k of profile.kernels) {
    const e = byKernel.get(k.name) ?? { count: 0, ms: 0 };
    e.count++;
    e.ms += Number(k.kernelTimeMs) || 0;
    byKernel.set(k.name, e);
  }
  const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15);
  console.log(`kernels: ${profile.kernels.length} calls`);
  for (const [name, e] of rows) console.log(`  ${name.padEnd(24)} ${String(e.count).padStart(5)} calls ${e.ms.toFixed(1).padStart(8)} ms`);
  tf.dispose(profile.result);
}
tf.dispose([images, weights]);
policy.dispose();
const leaked = tf.memory().numTensors - before;
console.log(`tensors left after disposing everything: ${leaked}`);
