/**
 * `npm run bench -- ops`: images/s of every operator and of a 2-layer RandAugment pass
 * (a random operator per sample per layer through applyPerSample, magnitude 9/30, random
 * signs), on 256x32x32x3 and 32x224x224x3 batches, on the wasm backend; beside it, in the
 * same run, torchvision's RandAugment(num_ops=2, magnitude=9) on PIL images with one
 * thread (scripts/bench_ops_torch.py, Debian's /usr/bin/python3).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { DRA_OP_NAMES, type OpName, applyOp, applyPerSample } from '../../src/ops';
import { Rng } from '../../src/util/rng';
import type { BenchResult, BenchRow } from './main';

const SIZES = [
  { side: 32, batch: 256 },
  { side: 224, batch: 32 },
] as const;
const MAGNITUDE = 9 / 30;
const MIN_SECONDS = Number(process.env.DRALAB_BENCH_SECONDS ?? 0.5);

/** Images per second of `step` (which must leave its result fully computed). */
async function throughput(batch: number, step: () => tf.Tensor): Promise<number> {
  const run = async () => {
    const y = step();
    await y.data();
    y.dispose();
  };
  await run();
  let rounds = 0;
  const start = performance.now();
  do {
    await run();
    rounds++;
  } while ((performance.now() - start) / 1000 < MIN_SECONDS);
  return (rounds * batch) / ((performance.now() - start) / 1000);
}

function torchvisionBaseline(): { sizes: Record<string, { imagesPerSecond: number }>; [k: string]: unknown } | { error: string } {
  const script = join(__dirname, '..', '..', '..', 'scripts', 'bench_ops_torch.py');
  const r = spawnSync('/usr/bin/python3', [script, String(Math.max(1, MIN_SECONDS * 4))], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) return { error: `scripts/bench_ops_torch.py failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  return JSON.parse(r.stdout) as { sizes: Record<string, { imagesPerSecond: number }> };
}

export async function run(): Promise<BenchResult> {
  const backend = await selectBackend({ backend: process.env.DRALAB_BACKEND ?? 'wasm' });
  const rows: BenchRow[] = [];
  const rng = new Rng(0);
  const raPass: Record<string, Record<string, number>> = {};
  for (const { side, batch } of SIZES) {
    const images = tf.tidy(() => tf.round(tf.randomUniform([batch, side, side, 3], 0, 255, 'float32', 1))) as tf.Tensor4D;
    const magnitude = tf.fill([batch], MAGNITUDE) as tf.Tensor1D;
    const sign = tf.tensor1d(rng.signs(batch));
    const shape = `${batch}x${side}x${side}x3`;
    for (const op of DRA_OP_NAMES) {
      const perSecond = await throughput(batch, () => applyOp(op, images, magnitude, { sign, rng }));
      rows.push({ what: op, shape, 'images/s': perSecond, torchvision: null, ratio: null });
    }
    raPass[side] = {};
    for (const interpolation of ['nearest', 'bilinear'] as const) {
      const perSecond = await throughput(batch, () =>
        tf.tidy(() => {
          let x: tf.Tensor4D = images;
          for (let layer = 0; layer < 2; layer++) {
            const opIndex = Int32Array.from({ length: batch }, () => rng.int(DRA_OP_NAMES.length));
            x = applyPerSample(x, DRA_OP_NAMES as readonly OpName[], opIndex, magnitude, rng.signs(batch), { interpolation, rng });
          }
          return x;
        }),
      );
      raPass[side]![interpolation] = perSecond;
    }
    tf.dispose([images, magnitude, sign]);
  }
  const peer = torchvisionBaseline();
  for (const { side, batch } of SIZES) {
    const theirs = 'sizes' in peer ? peer.sizes[String(side)]?.imagesPerSecond ?? null : null;
    for (const interpolation of ['nearest', 'bilinear'] as const) {
      const ours = raPass[side]![interpolation]!;
      rows.push({
        what: `RandAugment 2 layers, m=9/30 (${interpolation})`,
        shape: `${batch}x${side}x${side}x3`,
        'images/s': ours,
        torchvision: theirs,
        ratio: theirs ? ours / theirs : null,
      });
    }
  }
  return {
    suite: 'ops',
    rows,
    meta: {
      backend: backend.backend,
      threads: backend.threads,
      magnitude: MAGNITUDE,
      minSecondsPerRow: MIN_SECONDS,
      torchvision: peer,
      note: 'torchvision column: RandAugment(num_ops=2, magnitude=9) on PIL images, one image at a time, 1 thread; ratio = ours / torchvision',
    },
  };
}
