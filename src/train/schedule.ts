/** Learning-rate schedules as pure functions of the step index. */

/**
 * Cosine decay from baseRate to minRate over totalSteps (step 0 -> baseRate), after an
 * optional linear warmup of warmupSteps (from baseRate / warmupSteps up to baseRate).
 * Steps past the end stay at minRate.
 */
export function cosineLearningRate(baseRate: number, step: number, totalSteps: number, options: { warmupSteps?: number; minRate?: number } = {}): number {
  const warmup = options.warmupSteps ?? 0;
  const minRate = options.minRate ?? 0;
  if (!(totalSteps > 0)) throw new Error(`totalSteps must be positive, got ${totalSteps}`);
  if (!(step >= 0)) throw new Error(`step must be >= 0, got ${step}`);
  if (!(warmup >= 0 && warmup < totalSteps)) throw new Error(`warmupSteps must be in [0, totalSteps), got ${warmup}`);
  if (step < warmup) return (baseRate * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / (totalSteps - warmup));
  return minRate + 0.5 * (baseRate - minRate) * (1 + Math.cos(Math.PI * progress));
}
