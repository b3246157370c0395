/**
 * Final training's settings: one zod schema with each setting's type, range, default and
 * documentation. `trainWithPolicy` checks its options against it and the CLI's `train`
 * flags are generated from it (src/cli/flags.ts).
 */
import { z } from 'zod';
import { MAX_SEED } from '../util/rng';

export const trainSettingsSchema = z.object({
  model: z.string().min(1).default('tiny-cnn').describe('model: tiny-cnn, resnet-20, wrn-16-2, wrn-40-2, wrn-28-10, resnet-18, resnet-50'),
  epochs: z.number().int().positive().default(10).describe('training epochs'),
  batchSize: z.number().int().positive().default(64).describe('batch size'),
  learningRate: z.number().positive().default(0.05).describe('initial learning rate (SGD with Nesterov momentum, cosine schedule to 0)'),
  momentum: z.number().min(0).lt(1).default(0.9).describe('SGD momentum'),
  weightDecay: z.number().min(0).default(5e-4).describe('weight decay'),
  gradClipNorm: z.number().positive().default(5).describe("clip of the gradient's global norm"),
  cutout: z.number().int().min(0).default(0).describe('side of the Cutout square after the policy, 0 = off (the official final training uses 16)'),
  randomCropFlip: z.boolean().default(false).describe('random crop (zero padding of side / 8) and horizontal flip before the policy, as the official final training does'),
  seed: z.number().int().min(0).max(MAX_SEED).default(0).describe(`seed of the initialisation, batches and augmentation, an integer in [0, ${MAX_SEED}]`),
  evaluateEvery: z.number().int().positive().default(1).describe('evaluate on the held-out split every n epochs, and after the last'),
  prefetch: z.boolean().default(true).describe('read and augment the next batch on a worker thread while the current one trains (cpu and wasm backends); the same batches either way'),
});

export type TrainSettings = z.infer<typeof trainSettingsSchema>;

/** Every default. */
export const TRAIN_DEFAULTS: TrainSettings = trainSettingsSchema.parse({});
