/**
 * Search configuration: the official DRA semantics as defaults, every ablation switch of
 * the paper as an option, and named presets. `fast-cpu` (the default) keeps the official
 * semantics and optimiser settings but a CPU-sized model and budget; `official-cifar` is
 * the official CIFAR search recipe (search_CIFAR.py). Plain JSON, stored in checkpoints
 * and run folders; docs/fidelity.md lists every setting beside the official value.
 */
import { z } from 'zod';
import { DRA_OP_NAMES, isOpName } from '../ops/names';
import { MAX_SEED } from '../util/rng';

export const PRESET_NAMES = ['fast-cpu', 'official-cifar'] as const;
export { MAX_SEED };
export type PresetName = (typeof PRESET_NAMES)[number];

export const searchConfigSchema = z.object({
  /** Which preset filled the settings the caller did not give. */
  preset: z.enum(PRESET_NAMES),
  /** Dataset spec (see loadDataset): `synthetic:colour`, `cifar10:<dir>`, ... */
  data: z.string().min(1),
  /** Model name (see MODEL_NAMES). */
  model: z.string().min(1),
  /** Limit the training / test images loaded (synthetic: how many to generate). */
  trainCount: z.number().int().positive().optional(),
  testCount: z.number().int().positive().optional(),
  /** Seed of every random choice: an integer in [0, 2^32 - 1] (seeds beyond would alias smaller ones). */
  seed: z.number().int().min(0).max(MAX_SEED),
  batchSize: z.number().int().positive(),
  /** Total search steps (the cosine schedule spans them). */
  steps: z.number().int().positive(),

  /** Proxy set: a fraction of the training set, or C classes x K images; split in halves. */
  proxyFraction: z.number().gt(0).max(1),
  proxyClasses: z.number().int().positive().optional(),
  proxyPerClass: z.number().int().positive().optional(),
  stratified: z.boolean(),

  /** Policy (paper section III; official defaults). */
  depth: z.number().int().positive(),
  ops: z.array(z.string()).min(1),
  temperature: z.number().positive(),
  applyProbability: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]),
  initialMu: z.number().min(0),
  /** Upper clip of mu and of sampled magnitudes (the official `scale`; 3 in its ResNet-200 ImageNet search). */
  magnitudeScale: z.number().positive().finite(),
  /** 'straight-through' (official) or 'exact' (affine ops also pass their warp's magnitude gradient). */
  magnitudeGradient: z.enum(['straight-through', 'exact']),
  initialSigma: z.number().min(0).max(1),
  interpolation: z.enum(['nearest', 'bilinear']),
  fill: z.number().min(0).max(255),

  /** Ablation switches. */
  learnWeights: z.boolean(),
  learnMu: z.boolean(),
  learnSigma: z.boolean(),
  operatorGradients: z.boolean(),
  useKl: z.boolean(),
  /** lambda: weight of KL(p_ori || p_aug) in the policy loss. */
  klWeight: z.number().min(0),
  /** 'first' (official) or 'second' (one-step unrolled, DARTS finite differences). */
  policyGradient: z.enum(['first', 'second']),

  /** Policy optimiser: AdamW. */
  policyLearningRate: z.number().positive(),
  policyBeta1: z.number().min(0).lt(1),
  policyBeta2: z.number().min(0).lt(1),
  policyWeightDecay: z.number().min(0),

  /** Model optimiser: SGD with Nesterov momentum, cosine schedule. */
  modelLearningRate: z.number().positive(),
  momentum: z.number().min(0).lt(1),
  nesterov: z.boolean(),
  weightDecay: z.number().min(0),
  gradClipNorm: z.number().positive(),
  /** Side of the Cutout square applied after DRA in both the policy and the model step (0 = off), as officially. */
  cutout: z.number().int().min(0),
  /**
   * Random crop (zero padding of 1/8 of the side) and horizontal flip of the model half's
   * batches before DRA, as the official data pipeline does (its policy half has neither).
   * Unset: on, unless the dataset declares that a flip changes its labels
   * (synthetic:orientation), which turns it off and says so.
   */
  randomCropFlip: z.boolean().optional(),
  /** Dropout rate inside wide-ResNet blocks (official search model: 0.3); other models have none. */
  dropout: z.number().min(0).lt(1),
  /** AdamW epsilon of the policy optimiser (TensorFlow's default, 1e-7, officially). */
  policyEpsilon: z.number().positive(),

  /** A policy snapshot is kept in the history every this many steps. */
  snapshotEvery: z.number().int().positive(),
  /** What a non-finite loss does: reject the step and go on, or reject it and stop. */
  onNonFinite: z.enum(['skip', 'stop']),
});

export type SearchConfig = z.infer<typeof searchConfigSchema>;

export const SEARCH_DEFAULTS: SearchConfig = {
  preset: 'fast-cpu',
  data: 'synthetic:colour',
  model: 'tiny-cnn',
  seed: 0,
  batchSize: 64,
  steps: 300,
  proxyFraction: 1,
  stratified: false,
  depth: 2,
  ops: [...DRA_OP_NAMES],
  temperature: 0.5,
  applyProbability: [0.2, 0.8],
  initialMu: 0.5,
  initialSigma: 0.1,
  magnitudeScale: 1,
  magnitudeGradient: 'straight-through',
  interpolation: 'bilinear',
  fill: 0,
  learnWeights: true,
  learnMu: true,
  learnSigma: true,
  operatorGradients: true,
  useKl: true,
  klWeight: 1,
  policyGradient: 'first',
  policyLearningRate: 5e-3,
  policyBeta1: 0.5,
  policyBeta2: 0.999,
  policyWeightDecay: 0,
  policyEpsilon: 1e-7,
  modelLearningRate: 0.1,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 5e-4,
  gradClipNorm: 5,
  cutout: 16,
  dropout: 0.3,
  snapshotEvery: 10,
  onNonFinite: 'skip',
};

/**
 * What each preset sets over SEARCH_DEFAULTS. official-cifar is search_CIFAR.py:
 * WRN-28-10 (dropout 0.3, BN without affine), batch 128, an unstratified 8% proxy split
 * in halves, 20 epochs of the model half (2,000 images: 15 steps an epoch, 300 steps on
 * CIFAR-10/100), SGD lr 0.1 Nesterov, weight decay 5e-4, cosine to 0, clip 5; AdamW
 * lr 5e-3, beta1 0.5; tau 0.5, D 2, lambda 1, Cutout 16, crop + flip, scale 1.
 */
export const SEARCH_PRESETS: Readonly<Record<PresetName, Partial<SearchConfig>>> = {
  'fast-cpu': {},
  'official-cifar': {
    model: 'wrn-28-10',
    batchSize: 128,
    steps: 300,
    proxyFraction: 0.08,
    stratified: false,
    dropout: 0.3,
    modelLearningRate: 0.1,
    weightDecay: 5e-4,
    policyLearningRate: 5e-3,
    policyBeta1: 0.5,
    temperature: 0.5,
    depth: 2,
    klWeight: 1,
    cutout: 16,
    gradClipNorm: 5,
    magnitudeScale: 1,
  },
};

/** Merges user settings over the preset's over the defaults and validates; errors name each bad field. */
export function resolveSearchConfig(partial: Partial<SearchConfig>): SearchConfig {
  const presetName = partial.preset ?? SEARCH_DEFAULTS.preset;
  if (!(PRESET_NAMES as readonly string[]).includes(presetName)) {
    throw new Error(`invalid search configuration:\n  - preset: unknown preset '${String(presetName)}'; expected one of ${PRESET_NAMES.join(', ')}`);
  }
  const known = Object.keys(searchConfigSchema.shape);
  const unknown = Object.keys(partial).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new Error(`invalid search configuration:\n  - ${unknown.map((key) => `unknown setting '${key}'${nearestName(key, known) ? ` (did you mean '${nearestName(key, known)}'?)` : ''}`).join('\n  - ')}`);
  }
  const merged = { ...SEARCH_DEFAULTS, ...SEARCH_PRESETS[presetName], ...partial };
  const parsed = searchConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new Error(`invalid search configuration:\n  - ${problems.join('\n  - ')}`);
  }
  const config = parsed.data;
  const problems: string[] = [];
  config.ops.forEach((name, i) => {
    if (!isOpName(name)) problems.push(`ops[${i}]: unknown operator '${name}'`);
  });
  if (config.initialMu > config.magnitudeScale) problems.push(`initialMu: ${config.initialMu} is above magnitudeScale ${config.magnitudeScale}`);
  if (config.applyProbability[0] > config.applyProbability[1]) problems.push(`applyProbability: min ${config.applyProbability[0]} > max ${config.applyProbability[1]}`);
  if ((config.proxyClasses === undefined) !== (config.proxyPerClass === undefined)) problems.push('proxyClasses and proxyPerClass go together');
  if (problems.length) throw new Error(`invalid search configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}

/** The known name closest to `name` by edit distance, if it is close (a typo, not another word). */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** What loadDataset needs to reproduce a search's data. */
export function datasetOptions(config: SearchConfig): { seed: number; trainCount?: number; testCount?: number } {
  return {
    seed: config.seed,
    ...(config.trainCount !== undefined ? { trainCount: config.trainCount } : {}),
    ...(config.testCount !== undefined ? { testCount: config.testCount } : {}),
  };
}
