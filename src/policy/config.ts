/**
 * The DRA policy's settings: one zod schema holding each setting's type, range, default
 * and documentation. The search's settings extend it (src/search/config.ts), and the
 * command line's flags are generated from the result (src/cli/flags.ts), so a setting has
 * one name, one default and one check everywhere: API, CLI, saved JSON and figures.
 */
import { z } from 'zod';
import { isOpName, DRA_OP_NAMES, type OpName } from '../ops/names';
import type { CrossCheck } from '../util/settings';

export const draPolicySettingsSchema = z.object({
  depth: z.number().int().positive().default(2).describe('augmentation layers D'),
  ops: z
    .array(z.string())
    .min(1)
    .default([...DRA_OP_NAMES])
    .describe('candidate operators, comma-separated'),
  temperature: z.number().positive().default(0.5).describe('Gumbel-softmax temperature tau'),
  applyProbability: z
    .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
    .default([0.2, 0.8])
    .describe('range min,max of the per-sample apply probability p ~ U(min, max)'),
  magnitudeScale: z
    .number()
    .positive()
    .finite()
    .default(1)
    .describe('upper clip of mu and of sampled magnitudes, the official scale (3 in its ResNet-200 ImageNet search)'),
  initialWeight: z.number().finite().default(1e-3).describe('initial selecting weight w of every operator'),
  initialMu: z.number().min(0).default(0.5).describe('initial magnitude mean mu'),
  initialSigma: z.number().min(0).max(1).default(0.1).describe('initial magnitude standard deviation sigma'),
  learnWeights: z.boolean().default(true).describe('learn the selecting weights w (off: uniform)'),
  learnMu: z.boolean().default(true).describe('learn the magnitude means mu'),
  learnSigma: z.boolean().default(true).describe('learn the magnitude standard deviations sigma'),
  operatorGradients: z
    .boolean()
    .default(true)
    .describe("gradients through the operators to their input (off: every operator straight-through, the paper's w/o operator gradient)"),
  magnitudeGradient: z
    .enum(['straight-through', 'exact'])
    .default('straight-through')
    .describe("how a magnitude gets its gradient: straight-through (official) or exact (affine ops also pass their warp's magnitude gradient)"),
  interpolation: z.enum(['nearest', 'bilinear']).default('bilinear').describe('interpolation of the affine operators'),
  fill: z.number().min(0).max(255).default(0).describe('fill level of pixels from outside the image'),
});

export type DraPolicySettings = z.infer<typeof draPolicySettingsSchema>;
export type MagnitudeGradient = DraPolicySettings['magnitudeGradient'];
export const MAGNITUDE_GRADIENTS: readonly MagnitudeGradient[] = draPolicySettingsSchema.shape.magnitudeGradient.unwrap().options;

/** The policy settings with every default filled in. */
export const DRA_POLICY_DEFAULTS: DraPolicySettings = draPolicySettingsSchema.parse({});

/** What no single field can check: operator names, mu within the scale, min <= max. */
export const checkPolicySettings: CrossCheck<DraPolicySettings> = (s) => {
  const problems: string[] = [];
  s.ops.forEach((name, i) => {
    if (!isOpName(name)) problems.push(`ops[${i}]: unknown operator '${name}'`);
  });
  if (s.initialMu > s.magnitudeScale) problems.push(`initialMu: ${s.initialMu} is above magnitudeScale ${s.magnitudeScale}`);
  if (s.applyProbability[0] > s.applyProbability[1]) problems.push(`applyProbability: min ${s.applyProbability[0]} > max ${s.applyProbability[1]}`);
  return problems;
};

/** The operator list as typed names (checked by checkPolicySettings). */
export function policyOps(settings: Pick<DraPolicySettings, 'ops'>): OpName[] {
  return settings.ops as OpName[];
}
