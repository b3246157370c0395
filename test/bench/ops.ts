/**
 * `npm run bench -- ops`: images/s of every operator and of a 2-layer RandAugment pass,
 * on 256x32x32x3 and 32x224x224x3 batches, on the wasm backend; beside it, in the same
 * run, torchvision on PIL images with one thread (scripts/bench_ops_torch.py, Debian's
 * /usr/bin/python3): RandAugment(num_ops=2, magnitude=9) with nearest and with bilinear
 * sampling, and each of its operators alone.
 *
 * Two paths are timed. The float ops (applyOp, applyPerSample) are what the DRA search
 * differentiates. The 8-bit layer pass (applyLayers, via FrozenPolicy.apply) is what a
 * frozen policy (RandAugment, TrivialAugment, a searched DRA policy) runs in training: it
 * stores every op's output as 8-bit levels, as the PIL chain does, so it is the one to
 * compare with torchvision. Every timing includes reading the result back to JavaScript.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { DRA_OP_NAMES, type Interpolation, type OpName, applyOp, applyPerSample } from '../../src/ops';
import { applyLayers } from '../../src/ops/layers';
import { randAugment } from '../../src/policy/frozen';
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

interface PeerSize {
  nearest: number;
  bilinear: number;
  ops: Record<string, number>;
}

type Peer = { sizes: Record<string, PeerSize>; [k: string]: unknown } | { error: string };

function torchvisionBaseline(): Peer {
  const script = join(__dirname, '..', '..', '..', 'scripts', 'bench_ops_torch.py');
  const r = spawnSync('/usr/bin/python3', [script, String(Math.max(0.3, MIN_SECONDS))], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) return { error: `scripts/bench_ops_torch.py failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  return JSON.parse(r.stdout) as Peer;
}

/** One layer applying `op` to every sample, for the 8-bit pass of one operator. */
function singleOpLayer(k: number, n: number, rng: Rng) {
  return { opIndex: new Int32Array(n).fill(k), magnitude: new Float32Array(n).fill(MAGNITUDE), sign: new Float32Array(n).fill(1), cutoutCentre: rng.uniform(2 * n) };
}

const ratio = (ours: number, theirs: number | null | undefined): number | null => (theirs ? ours / theirs : null);

export async function run(): Promise<BenchResult> {
  const backend = await selectBackend({ backend: process.env.DRALAB_BACKEND ?? 'wasm' });
  const peer = torchvisionBaseline();
  const peerSize = (side: number): PeerSize | undefined => ('sizes' in peer ? peer.sizes[String(side)] : undefined);
  const rows: BenchRow[] = [];
  const rng = new Rng(0);
  const ops = DRA_OP_NAMES as readonly OpName[];
  const passRows: BenchRow[] = [];
  for (const { side, batch } of SIZES) {
    const images = tf.tidy(() => tf.round(tf.randomUniform([batch, side, side, 3], 0, 255, 'float32', 1))) as tf.Tensor4D;
    const magnitude = tf.fill([batch], MAGNITUDE) as tf.Tensor1D;
    const sign = tf.ones([batch]) as tf.Tensor1D;
    const shape = `${batch}x${side}x${side}x3`;
    const theirs = peerSize(side);
    for (let k = 0; k < ops.length; k++) {
      const op = ops[k]!;
      // Affine ops with nearest sampling here, as torchvision's per-op column runs them.
      const floatOp = await throughput(batch, () => applyOp(op, images, magnitude, { sign, rng, interpolation: 'nearest' }));
      const layer = [singleOpLayer(k, batch, rng)];
      const eightBit = await throughput(batch, () => applyLayers(images, ops, layer, { interpolation: 'nearest' }));
      const tv = theirs?.ops[op] ?? null;
      rows.push({ what: op, shape, 'float op': floatOp, '8-bit pass': eightBit, torchvision: tv, ratio: ratio(eightBit, tv) });
    }
    for (const interpolation of ['nearest', 'bilinear'] as const satisfies readonly Interpolation[]) {
      const policy = randAugment({ n: 2, m: 9 });
      const eightBit = await throughput(batch, () => policy.apply(images, rng, { interpolation }));
      const floatOps = await throughput(batch, () =>
        tf.tidy(() => {
          let x: tf.Tensor4D = images;
          for (let layer = 0; layer < 2; layer++) {
            const opIndex = Int32Array.from({ length: batch }, () => rng.int(ops.length));
            x = applyPerSample(x, ops, opIndex, magnitude, rng.signs(batch), { interpolation, rng });
          }
          return x;
        }),
      );
      const tv = theirs?.[interpolation] ?? null;
      passRows.push({ what: `RandAugment 2 layers, m=9/30 (${interpolation})`, shape, 'float op': floatOps, '8-bit pass': eightBit, torchvision: tv, ratio: ratio(eightBit, tv) });
    }
    tf.dispose([images, magnitude, sign]);
  }
  rows.push(...passRows);
  return {
    suite: 'ops',
    rows,
    meta: {
      backend: backend.backend,
      threads: backend.threads,
      magnitude: MAGNITUDE,
      minSecondsPerRow: MIN_SECONDS,
      torchvision: peer,
      note:
        "images/s, 1 thread, result read back each time. 'float op': applyOp / applyPerSample (float ops, differentiable, what the search runs); " +
        "'8-bit pass': applyLayers / FrozenPolicy.apply (every op's output stored as 8-bit levels, what training with a frozen policy runs). " +
        "torchvision: RandAugment(num_ops=2, magnitude=9) with the same interpolation, and per op torchvision's _apply_op at bin 9 (nearest), on PIL images. ratio = 8-bit pass / torchvision. " +
        'The per-op rows sample affine ops with nearest, as the torchvision column does.',
    },
  };
}
