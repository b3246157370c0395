/**
 * Search configuration: the official DRA semantics as defaults, every ablation switch of
 * the paper as an option, and named presets. `fast-cpu` (the default) keeps the official
 * semantics and optimiser settings but a CPU-sized model and budget; `official-cifar` is
 * the official CIFAR search recipe (search_CIFAR.py). Plain JSON, stored in checkpoints
 * and run folders; docs/fidelity.md lists every setting beside the official value.
 */
import { z } from 'zod';
import { checkPolicySettings, draPolicySettingsSchema, type DraPolicySettings } from '../policy/config';
import { MAX_SEED } from '../util/rng';
import { resolveSettings, type CrossCheck } from '../util/settings';

export const PRESET_NAMES = ['fast-cpu', 'official-cifar'] as const;
export { MAX_SEED };
export { nearestName } from '../util/settings';
export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * Every search setting with its type, range, default and documentation: the policy's
 * (src/policy/config.ts) plus the search's own. The CLI's `search` flags are generated
 * from it (src/cli/flags.ts) and a run folder stores the resolved object.
 */
export const searchConfigSchema = z.object({
  preset: z.enum(PRESET_NAMES).default('fast-cpu').describe('settings to start from: fast-cpu (CPU-sized model and budget, official semantics) or official-cifar (the official CIFAR search: WRN-28-10, batch 128, 8% proxy, 300 steps); other settings override it'),
  data: z.string().min(1).default('synthetic:colour').describe('dataset spec: synthetic:colour, cifar10:<dir>, cifar100:<dir>, fashion-mnist[:<dir>], mnist:<dir>, folder:<dir>'),
  model: z.string().min(1).default('tiny-cnn').describe('model: tiny-cnn, resnet-20, wrn-16-2, wrn-40-2, wrn-28-10, resnet-18, resnet-50'),
  trainCount: z.number().int().positive().optional().describe('use only the first n training images (synthetic: generate n)'),
  testCount: z.number().int().positive().optional().describe('use only the first n test images (synthetic: generate n)'),
  seed: z.number().int().min(0).max(MAX_SEED).default(0).describe(`seed of every random choice, an integer in [0, ${MAX_SEED}] (larger seeds would alias smaller ones)`),
  batchSize: z.number().int().positive().default(64).describe('batch size of both halves of a step'),
  steps: z.number().int().positive().default(300).describe('search steps (the cosine schedule spans them)'),

  ...draPolicySettingsSchema.shape,

  proxyFraction: z.number().gt(0).max(1).default(1).describe('fraction of the training set used as the proxy set, split in halves'),
  proxyClasses: z.number().int().positive().optional().describe('proxy set of this many classes (with proxyPerClass images each) instead of a fraction'),
  proxyPerClass: z.number().int().positive().optional().describe('images per class of a class-based proxy set (with proxyClasses)'),
  stratified: z.boolean().default(false).describe('draw the proxy set stratified by class (officially a plain random subsample)'),

  useKl: z.boolean().default(true).describe('the KL term KL(p_ori || p_aug) in the policy loss'),
  klWeight: z.number().min(0).default(1).describe('lambda, the weight of the KL term'),
  policyGradient: z.enum(['first', 'second']).default('first').describe('first (official) or second (one-step unrolled, DARTS-style finite differences) order policy gradient'),

  policyLearningRate: z.number().positive().default(5e-3).describe('policy learning rate (AdamW)'),
  policyBeta1: z.number().min(0).lt(1).default(0.5).describe('AdamW beta1 of the policy optimiser'),
  policyBeta2: z.number().min(0).lt(1).default(0.999).describe('AdamW beta2 of the policy optimiser'),
  policyWeightDecay: z.number().min(0).default(0).describe('AdamW weight decay of the policy optimiser'),
  policyEpsilon: z.number().positive().default(1e-7).describe("AdamW epsilon of the policy optimiser (TensorFlow's default, as officially)"),

  modelLearningRate: z.number().positive().default(0.1).describe('model learning rate (SGD, cosine schedule to 0)'),
  momentum: z.number().min(0).lt(1).default(0.9).describe('SGD momentum of the model optimiser'),
  nesterov: z.boolean().default(true).describe('Nesterov momentum'),
  weightDecay: z.number().min(0).default(5e-4).describe('weight decay of the model optimiser'),
  gradClipNorm: z.number().positive().default(5).describe("clip of the model gradient's global norm"),
  cutout: z.number().int().min(0).default(16).describe('side of the Cutout square after DRA in both halves of a step, 0 = off (as officially)'),
  randomCropFlip: z
    .boolean()
    .optional()
    .describe('random crop (zero padding of side / 8) and horizontal flip of the model half before DRA, as the official pipeline'),
  dropout: z.number().min(0).lt(1).default(0.3).describe('dropout inside wide-ResNet blocks (0.3 officially); other models have none'),

  snapshotEvery: z.number().int().positive().default(10).describe('keep a policy snapshot in the history every n steps'),
  onNonFinite: z.enum(['skip', 'stop']).default('skip').describe('what a step with a non-finite loss does after it is rejected: skip to the next, or stop the run'),
});

export type SearchConfig = z.infer<typeof searchConfigSchema>;

/** Every default (the fast-cpu preset's values are the defaults). */
export const SEARCH_DEFAULTS: SearchConfig = searchConfigSchema.parse({});

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

/** Fills in the preset's values, then the defaults, and validates; errors name each bad or unknown setting. */
export function resolveSearchConfig(partial: Partial<SearchConfig>): SearchConfig {
  const presetName = partial?.preset ?? SEARCH_DEFAULTS.preset;
  if (!(PRESET_NAMES as readonly string[]).includes(presetName)) {
    throw new Error(`invalid search configuration:\n  - preset: unknown preset '${String(presetName)}'; expected one of ${PRESET_NAMES.join(', ')}`);
  }
  return resolveSettings('search configuration', searchConfigSchema, { ...SEARCH_PRESETS[presetName], ...partial }, checkPolicySettings as CrossCheck<SearchConfig>) as SearchConfig;
}

/** The policy's own settings out of a search configuration. */
export function policySettingsOf(config: SearchConfig): DraPolicySettings {
  const keys = Object.keys(draPolicySettingsSchema.shape) as Array<keyof DraPolicySettings>;
  return Object.fromEntries(keys.map((key) => [key, config[key]])) as DraPolicySettings;
}

/** What loadDataset needs to reproduce a search's data. */
export function datasetOptions(config: SearchConfig): { seed: number; trainCount?: number; testCount?: number } {
  return {
    seed: config.seed,
    ...(config.trainCount !== undefined ? { trainCount: config.trainCount } : {}),
    ...(config.testCount !== undefined ? { testCount: config.testCount } : {}),
  };
}

/**
 * Crop and flip follow the official pipeline unless the dataset's labels depend on left
 * and right (then they are off, and the note says why); the resolved value is what the
 * run records and resumes with.
 */
export function resolveCropFlip(config: SearchConfig, dataset: { spec: string; flipChangesLabels?: boolean }): { config: SearchConfig; note?: string } {
  const flipSafe = dataset.flipChangesLabels !== true;
  const resolved = { ...config, randomCropFlip: config.randomCropFlip ?? flipSafe };
  if (config.randomCropFlip !== undefined || flipSafe) return { config: resolved };
  return { config: resolved, note: `random crop and flip are off: a horizontal flip changes the labels of ${dataset.spec} (pass randomCropFlip: true to force them)` };
}
