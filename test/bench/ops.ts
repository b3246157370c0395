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
import { median, writeBenchmarksSection } from './util';

const SIZES = [
  { side: 32, batch: 256 },
  { side: 224, batch: 32 },
] as const;
const MAGNITUDE = 9 / 30;
const MIN_SECONDS = Number(process.env.DRALAB_BENCH_SECONDS ?? 0.5);

/** Backends whose kernels have run when the op returns (so a result exists without a readback). */
const SYNCHRONOUS_BACKENDS = new Set(['cpu', 'wasm']);

/**
 * Images per second of `step`. By default the result is the tensor on the backend, as
 * torchvision's is a PIL image in memory: on cpu and wasm it is complete when `step`
 * returns, elsewhere it is awaited with a readback. `readBack` always reads it into a
 * JavaScript array as well (on wasm a 600 kB copy per 224 px image).
 */
async function throughput(batch: number, step: () => tf.Tensor, readBack = false): Promise<number> {
  const mustRead = readBack || !SYNCHRONOUS_BACKENDS.has(tf.getBackend());
  const run = async () => {
    const y = step();
    if (mustRead) await y.data();
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

/** Rounds of the RandAugment pass, ours and torchvision's in turn: a shared machine's speed drifts, and each ratio is taken within a round. */
const PASS_ROUNDS = Number(process.env.DRALAB_BENCH_ROUNDS ?? 3);

function torchvisionBaseline(passesOnly = false): Peer {
  const script = join(__dirname, '..', '..', '..', 'scripts', 'bench_ops_torch.py');
  const args = [script, String(Math.max(0.3, MIN_SECONDS)), ...(passesOnly ? ['--passes-only'] : [])];
  const r = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
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
    tf.dispose([images, magnitude, sign]);
  }
  // The RandAugment pass: ours (8-bit pass and float ops) and torchvision's in alternating rounds.
  const passes = new Map<string, { eightBit: number[]; eightBitReadBack: number[]; floatOps: number[]; torchvision: number[]; ratio: number[]; shape: string; interpolation: Interpolation }>();
  for (let round = 0; round < PASS_ROUNDS; round++) {
    const theirs = torchvisionBaseline(true);
    for (const { side, batch } of SIZES) {
      const images = tf.tidy(() => tf.round(tf.randomUniform([batch, side, side, 3], 0, 255, 'float32', 1))) as tf.Tensor4D;
      const magnitude = tf.fill([batch], MAGNITUDE) as tf.Tensor1D;
      for (const interpolation of ['nearest', 'bilinear'] as const satisfies readonly Interpolation[]) {
        const policy = randAugment({ n: 2, m: 9 });
        const eightBit = await throughput(batch, () => policy.apply(images, rng, { interpolation }));
        const eightBitReadBack = await throughput(batch, () => policy.apply(images, rng, { interpolation }), true);
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
        const key = `${side} ${interpolation}`;
        const entry = passes.get(key) ?? { eightBit: [], eightBitReadBack: [], floatOps: [], torchvision: [], ratio: [], shape: `${batch}x${side}x${side}x3`, interpolation };
        entry.eightBit.push(eightBit);
        entry.eightBitReadBack.push(eightBitReadBack);
        entry.floatOps.push(floatOps);
        const tv = 'sizes' in theirs ? theirs.sizes[String(side)]?.[interpolation] : undefined;
        if (tv) {
          entry.torchvision.push(tv);
          entry.ratio.push(eightBit / tv);
        }
        passes.set(key, entry);
      }
      tf.dispose([images, magnitude]);
    }
  }
  const medianOrNull = (values: number[]): number | null => (values.length > 0 ? median(values) : null);
  for (const entry of passes.values()) {
    passRows.push({
      what: `RandAugment 2 layers, m=9/30 (${entry.interpolation})`,
      shape: entry.shape,
      'float op': median(entry.floatOps),
      '8-bit pass': median(entry.eightBit),
      '8-bit + readback': median(entry.eightBitReadBack),
      torchvision: medianOrNull(entry.torchvision),
      ratio: medianOrNull(entry.ratio),
      'ratio range': entry.ratio.length > 0 ? `${Math.min(...entry.ratio).toFixed(2)}-${Math.max(...entry.ratio).toFixed(2)}` : null,
    });
  }
  rows.push(...passRows);
  writeBenchmarksSection('ops', 'Operators and the RandAugment pass vs torchvision', opsMarkdown(rows, passRows, peer, backend.backend));
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
        "images/s, 1 thread; the result is the tensor on the backend (complete when the call returns on cpu and wasm, awaited elsewhere), as torchvision's is a PIL image; '8-bit + readback' also copies it into a JavaScript array. 'float op': applyOp / applyPerSample (float ops, differentiable, what the search runs); " +
        "'8-bit pass': applyLayers / FrozenPolicy.apply (every op's output stored as 8-bit levels, what training with a frozen policy runs). " +
        "torchvision: RandAugment(num_ops=2, magnitude=9) with the same interpolation, and per op torchvision's _apply_op at bin 9 (nearest), on PIL images. ratio = 8-bit pass / torchvision; " +
        `the RandAugment rows are medians over ${PASS_ROUNDS} rounds, ours and torchvision's in turn, each ratio taken within its round. ` +
        'The per-op rows sample affine ops with nearest, as the torchvision column does.',
    },
  };
}

const fmt = (v: string | number | null | undefined, digits = 0): string => (typeof v === 'number' ? v.toFixed(digits) : '–');

function opsMarkdown(rows: readonly BenchRow[], passRows: readonly BenchRow[], peer: Peer, backend: string): string {
  const versions = 'sizes' in peer ? `torchvision ${String(peer.torchvision)} on PIL, 1 thread` : `no torchvision peer (${peer.error})`;
  const lines = [
    `Backend ${backend}, 1 thread; ${versions}. images/s of the result as a tensor on the backend (as torchvision's is a PIL image in memory); the readback column also copies it into a JavaScript array. ratio = 8-bit pass / torchvision, taken within each round.`,
    '',
    `| RandAugment, 2 layers, m = 9/30 | batch | 8-bit pass (FrozenPolicy.apply) | same + readback | float ops (applyPerSample) | torchvision RandAugment(2, 9) | ratio (median of ${PASS_ROUNDS} rounds) | range |`,
    '|---|---|---|---|---|---|---|---|',
    ...passRows.map((r) => `| ${String(r.what).replace(/^.*\((\w+)\)$/, '$1')} | ${r.shape} | ${fmt(r['8-bit pass'])} | ${fmt(r['8-bit + readback'])} | ${fmt(r['float op'])} | ${fmt(r.torchvision)} | ${fmt(r.ratio, 2)} | ${r['ratio range'] ?? '–'} |`),
    '',
    '| operator (nearest) | 8-bit, 32 px | torchvision, 32 px | 8-bit, 224 px | torchvision, 224 px |',
    '|---|---|---|---|---|',
  ];
  const opRows = rows.filter((r) => !passRows.includes(r));
  for (const name of new Set(opRows.map((r) => String(r.what)))) {
    const [small, large] = [SIZES[0], SIZES[1]].map(({ side, batch }) => opRows.find((r) => r.what === name && r.shape === `${batch}x${side}x${side}x3`));
    lines.push(`| ${name} | ${fmt(small?.['8-bit pass'])} | ${fmt(small?.torchvision)} | ${fmt(large?.['8-bit pass'])} | ${fmt(large?.torchvision)} |`);
  }
  return lines.join('\n');
}
