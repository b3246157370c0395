/**
 * Search configuration: the official DRA hyperparameters as defaults, every ablation
 * switch of the paper as an option. Plain JSON, stored in checkpoints and run folders.
 */
import { z } from 'zod';
import { DRA_OP_NAMES, isOpName } from '../ops/names';

export const searchConfigSchema = z.object({
  /** Dataset spec (see loadDataset): `synthetic:colour`, `cifar10:<dir>`, ... */
  data: z.string().min(1),
  /** Model name (see MODEL_NAMES). */
  model: z.string().min(1),
  /** Limit the training / test images loaded (synthetic: how many to generate). */
  trainCount: z.number().int().positive().optional(),
  testCount: z.number().int().positive().optional(),
  seed: z.number().int().min(0),
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
  initialMu: z.number().min(0).max(1),
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
  /** Side of the Cutout square applied after DRA in the model step (0 = off). */
  cutout: z.number().int().min(0),

  /** A policy snapshot is kept in the history every this many steps. */
  snapshotEvery: z.number().int().positive(),
  /** What a non-finite loss does: reject the step and go on, or reject it and stop. */
  onNonFinite: z.enum(['skip', 'stop']),
});

export type SearchConfig = z.infer<typeof searchConfigSchema>;

export const SEARCH_DEFAULTS: SearchConfig = {
  data: 'synthetic:colour',
  model: 'tiny-cnn',
  seed: 0,
  batchSize: 64,
  steps: 300,
  proxyFraction: 1,
  stratified: true,
  depth: 2,
  ops: [...DRA_OP_NAMES],
  temperature: 0.5,
  applyProbability: [0.2, 0.8],
  initialMu: 0.5,
  initialSigma: 0.1,
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
  modelLearningRate: 0.1,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 5e-4,
  gradClipNorm: 5,
  cutout: 16,
  snapshotEvery: 10,
  onNonFinite: 'skip',
};

/** Merges user settings over the defaults and validates; errors name each bad field. */
export function resolveSearchConfig(partial: Partial<SearchConfig>): SearchConfig {
  const merged = { ...SEARCH_DEFAULTS, ...partial };
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
  if (config.applyProbability[0] > config.applyProbability[1]) problems.push(`applyProbability: min ${config.applyProbability[0]} > max ${config.applyProbability[1]}`);
  if ((config.proxyClasses === undefined) !== (config.proxyPerClass === undefined)) problems.push('proxyClasses and proxyPerClass go together');
  if (problems.length) throw new Error(`invalid search configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}
