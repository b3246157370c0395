/**
 * What a search learned, as a few lines for the terminal: the likeliest operators per
 * layer and, on a built-in synthetic dataset, how the operators its planted rule marks
 * as label-destroying fared against the harmless ones since the first snapshot.
 */
import { parseDatasetSpec } from '../data/spec';
import { SYNTHETIC_DATASETS, findSyntheticName } from '../data/synthetic';
import { takesMagnitude, type OpName } from '../ops/names';
import type { PolicySnapshot } from './record';

function topOps(values: readonly number[], ops: readonly string[], count: number): number[] {
  return values.map((_, k) => k).sort((a, b) => values[b]! - values[a]! || a - b).slice(0, Math.min(count, ops.length));
}

/** The three likeliest operators of each layer with their magnitudes, as text. */
export function policyText(policy: PolicySnapshot, step: number): string {
  const lines = policy.layers.map((layer, d) => {
    const top = topOps(layer.probabilities, policy.ops, 3);
    return `  layer ${d + 1}: ${top.map((k) => `${policy.ops[k]} p=${layer.probabilities[k]!.toFixed(3)} m=${layer.mu[k]!.toFixed(2)}±${layer.sigma[k]!.toFixed(2)}`).join(', ')}`;
  });
  return [`policy at step ${step}, most likely operators:`, ...lines].join('\n');
}

interface GroupFigures {
  /** Summed probability of the group's operators, averaged over layers. */
  probability: number;
  /** Mean mu over the group's operators that take a magnitude (NaN if none does). */
  mu: number;
}

function groupFigures(policy: PolicySnapshot, group: readonly OpName[]): GroupFigures {
  const indices = group.map((op) => policy.ops.indexOf(op)).filter((k) => k >= 0);
  const withMagnitude = indices.filter((k) => takesMagnitude(policy.ops[k]!));
  const layers = policy.layers;
  const probability = layers.reduce((sum, l) => sum + indices.reduce((s, k) => s + l.probabilities[k]!, 0), 0) / layers.length;
  const mus = layers.flatMap((l) => withMagnitude.map((k) => l.mu[k]!));
  return { probability, mu: mus.length > 0 ? mus.reduce((a, b) => a + b, 0) / mus.length : Number.NaN };
}

/** Lines on the planted rule of a `synthetic:<name>` dataset; empty for any other dataset. */
export function plantedRuleSummary(dataSpec: string, start: PolicySnapshot, end: PolicySnapshot): string[] {
  const parsed = parseDatasetSpec(dataSpec);
  if (parsed.kind !== 'synthetic') return [];
  const name = findSyntheticName(parsed.argument);
  if (name === undefined) return [];
  const info = SYNTHETIC_DATASETS[name];
  const line = (label: string, group: readonly OpName[]) => {
    const [a, b] = [groupFigures(start, group), groupFigures(end, group)];
    const mu = Number.isNaN(a.mu) ? '' : `, mean mu ${a.mu.toFixed(2)} -> ${b.mu.toFixed(2)}`;
    return `  ${label} (${group.join(', ')}): probability per layer ${a.probability.toFixed(3)} -> ${b.probability.toFixed(3)}${mu}`;
  };
  return [
    `planted rule of ${parsed.spec}, from the first snapshot to now:`,
    line('label-destroying', info.labelDestroyingOps),
    ...(info.partlyDestroyingOps.length > 0 ? [line('partly destroying', info.partlyDestroyingOps)] : []),
    line('harmless', info.harmlessOps),
  ];
}

/** The terminal summary of a search at `step`. */
export function searchSummary(dataSpec: string, start: PolicySnapshot, end: PolicySnapshot, step: number): string {
  return [policyText(end, step), ...plantedRuleSummary(dataSpec, start, end)].join('\n');
}
