/**
 * The policy file (`policy.json`): a versioned, validated, plain-JSON description of a
 * searched or hand-made policy. Validation uses zod (well kept, CommonJS-compatible,
 * gives precise paths for each problem), then cross-field checks zod cannot express.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DRA_OP_NAMES, isOpName, type OpName } from '../ops/names';
import type { PolicySnapshot } from './snapshot';

export const POLICY_FORMAT = 'dralab.policy';
/**
 * Version 2 added `magnitudeScale` (mu may exceed 1 up to it); version 1 files, whose
 * magnitudes are all in [0, 1], still load (as scale 1).
 */
export const POLICY_VERSION = 2;
const READABLE_VERSIONS = [1, 2];

const unitInterval = z.number().finite().min(0).max(1);

const layerSchema = z.object({
  weights: z.array(z.number().finite()).optional(),
  probabilities: z.array(unitInterval),
  mu: z.array(z.number().finite().min(0)),
  sigma: z.array(unitInterval),
});

const policySchema = z.object({
  format: z.literal(POLICY_FORMAT),
  version: z.number().int().positive(),
  ops: z.array(z.string()).min(1),
  layers: z.array(layerSchema).min(1),
  applyProbability: z.tuple([unitInterval, unitInterval]),
  magnitudeDistribution: z.enum(['normal', 'uniform']).optional(),
  magnitudeScale: z.number().finite().positive().optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

export interface PolicyFileLayer {
  /** Selecting weights (logits); absent for hand-made policies. */
  weights?: number[];
  probabilities: number[];
  mu: number[];
  sigma: number[];
}

/** A validated policy file. `magnitudeDistribution` 'uniform' draws m ~ U(0, 1) (TrivialAugment). */
export interface PolicyFile {
  format: typeof POLICY_FORMAT;
  version: number;
  ops: OpName[];
  layers: PolicyFileLayer[];
  applyProbability: [number, number];
  magnitudeDistribution?: 'normal' | 'uniform';
  /** Upper clip of mu and of every sampled magnitude (the official `scale`); 1 when absent. */
  magnitudeScale?: number;
  meta?: Record<string, unknown>;
}

/** A policy's magnitude scale (1 for files without one). */
export function magnitudeScaleOf(policy: Pick<PolicyFile, 'magnitudeScale'>): number {
  return policy.magnitudeScale ?? 1;
}

export class PolicyFileError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`invalid policy ${source}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'PolicyFileError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
}

/** Validates parsed JSON as a policy file; throws PolicyFileError listing every problem. */
export function validatePolicy(value: unknown, source = '(in memory)'): PolicyFile {
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    if (v.format === POLICY_FORMAT && typeof v.version === 'number' && v.version > POLICY_VERSION) {
      throw new PolicyFileError(source, [`version ${v.version} was written by a newer dralab; this one reads version ${POLICY_VERSION}`]);
    }
  }
  const parsed = policySchema.safeParse(value);
  if (!parsed.success) {
    throw new PolicyFileError(source, parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`));
  }
  const policy = parsed.data;
  const problems: string[] = [];
  if (!READABLE_VERSIONS.includes(policy.version)) problems.push(`version: expected one of ${READABLE_VERSIONS.join(', ')}, got ${policy.version}`);
  if (policy.version < 2 && policy.magnitudeScale !== undefined) problems.push(`magnitudeScale: needs version 2 or later, the file says version ${policy.version}`);
  const scale = policy.magnitudeScale ?? 1;
  policy.ops.forEach((name, i) => {
    if (!isOpName(name)) problems.push(`ops[${i}]: unknown operator '${name}'; expected one of ${DRA_OP_NAMES.join(', ')}, Identity`);
  });
  if (new Set(policy.ops).size !== policy.ops.length) problems.push('ops: operator names must be unique');
  const k = policy.ops.length;
  policy.layers.forEach((layer, d) => {
    for (const key of ['weights', 'probabilities', 'mu', 'sigma'] as const) {
      const arr = layer[key];
      if (arr !== undefined && arr.length !== k) problems.push(`layers[${d}].${key}: expected ${k} values (one per op), got ${arr.length}`);
    }
    layer.mu.forEach((v, j) => {
      if (v > scale) problems.push(`layers[${d}].mu[${j}]: ${v} is above the magnitude scale ${scale}${policy.magnitudeScale === undefined ? ' (set magnitudeScale to allow it)' : ''}`);
    });
    const sum = layer.probabilities.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-3) problems.push(`layers[${d}].probabilities: must sum to 1, sum is ${sum.toPrecision(6)}`);
  });
  const [lo, hi] = policy.applyProbability;
  if (lo > hi) problems.push(`applyProbability: [min, max] with min <= max expected, got [${lo}, ${hi}]`);
  if (problems.length > 0) throw new PolicyFileError(source, problems);
  return policy as PolicyFile;
}

/** Reads and validates a policy.json; errors name the file. */
export function readPolicyFile(path: string): PolicyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read policy file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PolicyFileError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return validatePolicy(json, path);
}

function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/**
 * The official DRA code publishes its searched policies as three [D][16] arrays
 * (`W` selecting weights, `M_MEAN`, `M_STD`) over the paper's operator order. Values are
 * kept exactly; means above `scale` or below 0, or a negative std, are errors (the
 * official search clips mu to [0, scale] and sigma to [0, 1] after every update, so a
 * published policy never has them).
 */
export function policyFromOfficialArrays(
  arrays: { W: number[][]; M_MEAN: number[][]; M_STD: number[][] },
  options: { applyProbability?: [number, number]; scale?: number; meta?: Record<string, unknown> } = {},
): PolicyFile {
  const depth = arrays.W.length;
  if (arrays.M_MEAN.length !== depth || arrays.M_STD.length !== depth) {
    throw new PolicyFileError('(official arrays)', [`W, M_MEAN and M_STD must have the same number of layers, got ${depth}, ${arrays.M_MEAN.length}, ${arrays.M_STD.length}`]);
  }
  const layers = arrays.W.map((w, d) => ({
    weights: [...w],
    probabilities: softmax(w),
    mu: [...(arrays.M_MEAN[d] ?? [])],
    sigma: [...(arrays.M_STD[d] ?? [])],
  }));
  return validatePolicy(
    {
      format: POLICY_FORMAT,
      version: POLICY_VERSION,
      ops: [...DRA_OP_NAMES],
      layers,
      applyProbability: options.applyProbability ?? [0.2, 0.8],
      magnitudeScale: options.scale ?? 1,
      meta: options.meta ?? { source: 'official W / M_MEAN / M_STD arrays' },
    },
    '(official arrays)',
  );
}

/** A snapshot is a policy file; this re-validates it (e.g. before writing). */
export function policyFromSnapshot(snapshot: PolicySnapshot): PolicyFile {
  return validatePolicy(snapshot, '(snapshot)');
}

export { softmax };
