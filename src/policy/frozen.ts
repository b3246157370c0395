/**
 * Frozen policies: fixed distributions used to augment batches during final training.
 * A DRA search freezes into one (op ~ Categorical(softmax(w)), m ~ N(mu, sigma) clipped,
 * the same apply gate); RandAugment and TrivialAugment are frozen policies of the
 * same kind, so one code path trains with any of them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { OPS, type GeometryOptions } from '../ops';
import { applyLayers, type LayerPlan } from '../ops/layers';
import { DRA_OP_NAMES, type OpName } from '../ops/names';
import { Rng } from '../util/rng';
import { OFFICIAL_POLICY_PREFIX, officialPolicy } from './official';
import { magnitudeScaleOf, POLICY_FORMAT, POLICY_VERSION, readPolicyFile, validatePolicy, type PolicyFile } from './schema';

/** Per-sample random choices of one layer: plain arrays, replayable (opIndex -1 where the apply gate said no). */
export type LayerDraw = LayerPlan;

function sampleCategorical(probabilities: readonly number[], u: number): number {
  let acc = 0;
  for (let j = 0; j < probabilities.length; j++) {
    acc += probabilities[j]!;
    if (u < acc) return j;
  }
  return probabilities.length - 1;
}

export class FrozenPolicy {
  readonly file: PolicyFile;

  constructor(file: PolicyFile) {
    this.file = validatePolicy(file);
  }

  get ops(): readonly OpName[] {
    return this.file.ops;
  }

  get depth(): number {
    return this.file.layers.length;
  }

  /** Draws the per-sample choices of every layer for a batch of n images. */
  sample(n: number, rng: Rng): LayerDraw[] {
    const [pMin, pMax] = this.file.applyProbability;
    const uniformMagnitude = this.file.magnitudeDistribution === 'uniform';
    const scale = magnitudeScaleOf(this.file);
    return this.file.layers.map((layer) => {
      const opIndex = new Int32Array(n);
      const magnitude = new Float32Array(n);
      const sign = rng.signs(n);
      for (let i = 0; i < n; i++) {
        const op = sampleCategorical(layer.probabilities, rng.next());
        const p = pMin + (pMax - pMin) * rng.next();
        const applied = rng.next() < p;
        const m = uniformMagnitude ? rng.next() : layer.mu[op]! + layer.sigma[op]! * (rng.normal(1)[0] ?? 0);
        opIndex[i] = applied ? op : -1;
        magnitude[i] = Math.min(scale, Math.max(0, m));
      }
      return { opIndex, magnitude, sign, cutoutCentre: rng.uniform(2 * n) };
    });
  }

  /**
   * Augments a batch ([N, H, W, C] float32 in [0, 255]) as Pillow would: the input read
   * as 8-bit levels and every layer's output stored as 8-bit levels (see applyLayers).
   * Not differentiable.
   */
  apply(images: tf.Tensor4D, rng: Rng, options: Partial<GeometryOptions> = {}): tf.Tensor4D {
    const draws = this.sample(images.shape[0], rng);
    return this.applyDraws(images, draws, options);
  }

  /** Replays recorded draws (same draws, same output). */
  applyDraws(images: tf.Tensor4D, draws: readonly LayerDraw[], options: Partial<GeometryOptions> = {}): tf.Tensor4D {
    return applyLayers(images, this.file.ops, draws, options);
  }

  /** One-line human description. */
  describe(): string {
    const name = typeof this.file.meta?.name === 'string' ? this.file.meta.name : 'policy';
    return `${name}: ${this.depth} layer(s) over ${this.ops.length} ops, apply p ~ U(${this.file.applyProbability.join(', ')})`;
  }
}

export interface RandAugmentOptions {
  /** Number of layers (ops applied in sequence). */
  n: number;
  /** Magnitude on torchvision's 0..30 scale (RandAugment's M). */
  m: number;
  /** Magnitude standard deviation on the same scale (timm's mstd); 0 = fixed. */
  mstd?: number;
  /** Probability that each layer applies its op; 1 as in torchvision (timm's default is 0.5). */
  p?: number;
  ops?: readonly OpName[];
}

const MAGNITUDE_LEVELS = 30;
/** More layers than this is a mistake (each layer is a full pass over the batch), not a policy. */
export const MAX_LAYERS = 16;

/** RandAugment as a frozen policy: uniform op choice, m = M/30 (+ N(0, mstd/30)). */
export function randAugment(options: RandAugmentOptions): FrozenPolicy {
  const { n, m, mstd = 0, p = 1 } = options;
  const ops = [...(options.ops ?? DRA_OP_NAMES)];
  if (!Number.isInteger(n) || n < 1 || n > MAX_LAYERS) throw new Error(`RandAugment n (number of layers) must be an integer in [1, ${MAX_LAYERS}], got ${n}`);
  if (!(m >= 0 && m <= MAGNITUDE_LEVELS)) throw new Error(`RandAugment m (magnitude) must be in [0, ${MAGNITUDE_LEVELS}], got ${m}`);
  if (!(mstd >= 0)) throw new Error(`RandAugment mstd must be >= 0, got ${mstd}`);
  if (!(p >= 0 && p <= 1)) throw new Error(`RandAugment p must be in [0, 1], got ${p}`);
  const k = ops.length;
  const layer = {
    probabilities: ops.map(() => 1 / k),
    mu: ops.map(() => m / MAGNITUDE_LEVELS),
    sigma: ops.map(() => Math.min(1, mstd / MAGNITUDE_LEVELS)),
  };
  return new FrozenPolicy({
    format: POLICY_FORMAT,
    version: POLICY_VERSION,
    ops,
    layers: Array.from({ length: n }, () => ({ ...layer, probabilities: [...layer.probabilities], mu: [...layer.mu], sigma: [...layer.sigma] })),
    applyProbability: [p, p],
    meta: { name: `rand-m${m}-n${n}${mstd ? `-mstd${mstd}` : ''}${p !== 1 ? `-p${p}` : ''}` },
  });
}

/** TrivialAugment (wide ranges are not used: the DRA ranges are): one op, m ~ U(0, 1), always applied. */
export function trivialAugment(ops: readonly OpName[] = [...DRA_OP_NAMES, 'Identity']): FrozenPolicy {
  const k = ops.length;
  return new FrozenPolicy({
    format: POLICY_FORMAT,
    version: POLICY_VERSION,
    ops: [...ops],
    layers: [{ probabilities: ops.map(() => 1 / k), mu: ops.map(() => 0.5), sigma: ops.map(() => 0) }],
    applyProbability: [1, 1],
    magnitudeDistribution: 'uniform',
    meta: { name: 'trivial' },
  });
}

/** The policy that changes nothing (training without augmentation). */
export function noAugmentation(): FrozenPolicy {
  return new FrozenPolicy({
    format: POLICY_FORMAT,
    version: POLICY_VERSION,
    ops: ['Identity'],
    layers: [{ probabilities: [1], mu: [0], sigma: [0] }],
    applyProbability: [0, 0],
    meta: { name: 'none' },
  });
}

/**
 * Parses a timm-style config string: `rand-m9-n2-mstd0.5[-p0.5]`, `trivial`, `none`.
 * Keys of `rand`: m (magnitude, 0..30 scale), n (layers, default 2), mstd (default 0),
 * p (apply probability per layer, default 1 as in torchvision).
 */
export function parsePolicyString(text: string): FrozenPolicy {
  const trimmed = text.trim();
  if (trimmed === 'none') return noAugmentation();
  if (trimmed === 'trivial' || trimmed === 'ta' || trimmed === 'trivialaugment') return trivialAugment();
  const parts = trimmed.split('-');
  if (parts[0] !== 'rand') throw new Error(`unknown policy string '${text}'; expected rand-m<M>-n<N>[-mstd<S>][-p<P>], trivial, none or official:<name>`);
  const values: Record<string, number> = { n: 2, mstd: 0, p: 1 };
  const given = new Set<string>();
  for (const part of parts.slice(1)) {
    const match = /^(mstd|m|n|p)([0-9]*\.?[0-9]+)$/.exec(part);
    if (!match) throw new Error(`policy string '${text}': cannot read '${part}'; expected m<number>, n<int>, mstd<number> or p<number>`);
    const key = match[1]!;
    if (given.has(key)) throw new Error(`policy string '${text}': '${key}' is given twice; give each of m, n, mstd, p once`);
    given.add(key);
    values[key] = Number(match[2]);
  }
  const sawM = given.has('m');
  if (!sawM) throw new Error(`policy string '${text}': the magnitude m<M> is required (e.g. rand-m9-n2)`);
  return randAugment({ n: values.n!, m: values.m!, mstd: values.mstd!, p: values.p! });
}

/**
 * Resolves a policy argument: a path to policy.json, `official:<name>` (a policy
 * published with the official DRA code, see OFFICIAL_POLICY_NAMES), or a config string.
 */
export function loadFrozenPolicy(spec: string): FrozenPolicy {
  if (spec.startsWith(OFFICIAL_POLICY_PREFIX)) return new FrozenPolicy(officialPolicy(spec.slice(OFFICIAL_POLICY_PREFIX.length)));
  if (spec.endsWith('.json') || spec.includes('/')) return new FrozenPolicy(readPolicyFile(spec));
  return parsePolicyString(spec);
}

/** Exposed for docs and checks: the ops whose sign is randomised. */
export function signedOps(ops: readonly OpName[]): OpName[] {
  return ops.filter((name) => OPS[name].signed);
}
