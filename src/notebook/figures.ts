/**
 * Displayables (figure + text summary) from library objects: the bridge between the
 * shaping in ./shape and the pure figure builders in widgets/.
 */
import {
  lossCurves,
  magnitudeDistributions,
  operatorGallery,
  probabilityHeatmap,
  probabilityTrajectories,
  sampleGrid,
  type GalleryData,
  type GalleryOptions,
  type LossCurveOptions,
  type MagnitudeDistributionOptions,
  type ProbabilityHeatmapOptions,
  type ProbabilityTrajectoryOptions,
  type SampleGridData,
  type SampleGridOptions,
} from '../../widgets';
import type { StepRecord } from '../search/record';
import { policyText } from '../search/summary';
import type { Displayable } from './bundle';
import { snapshotsOf, stepsOf, type HistoryLike, type PolicySource, type SearchLike } from './shape';

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(3) : String(v);
}

export function lastStepText(r: StepRecord | undefined): string {
  if (!r) return 'no steps yet';
  if (r.rejected) return `step ${r.step} rejected: ${r.rejected}`;
  return `step ${r.step}: train CE ${fmt(r.trainLoss)}, val CE ${fmt(r.valCrossEntropy)}, KL ${fmt(r.kl)}, val acc ${fmt(r.valAccuracy)}`;
}

export function lossesFigure(source: HistoryLike | SearchLike | StepRecord[], options?: Partial<LossCurveOptions>): Displayable {
  const steps = stepsOf(source, 'plot.losses');
  return { figure: lossCurves(steps, options), text: `Search losses over ${steps.length} steps; ${lastStepText(steps[steps.length - 1])}` };
}

export function probabilitiesFigure(source: PolicySource, options?: Partial<ProbabilityHeatmapOptions>): Displayable {
  const snapshots = snapshotsOf(source, 'plot.probabilities');
  const last = snapshots[snapshots.length - 1]!;
  return { figure: probabilityHeatmap(snapshots, options), text: policyText(last.policy, last.step) };
}

export function trajectoriesFigure(source: PolicySource, options?: Partial<ProbabilityTrajectoryOptions>): Displayable {
  const snapshots = snapshotsOf(source, 'plot.trajectories');
  const last = snapshots[snapshots.length - 1]!;
  return { figure: probabilityTrajectories(snapshots, options), text: `probabilities over ${snapshots.length} snapshots (steps ${snapshots[0]!.step}-${last.step})\n${policyText(last.policy, last.step)}` };
}

export function magnitudesFigure(source: PolicySource, options?: Partial<MagnitudeDistributionOptions>): Displayable {
  const snapshots = snapshotsOf(source, 'plot.magnitudes');
  const last = snapshots[snapshots.length - 1]!;
  return { figure: magnitudeDistributions(snapshots, options), text: policyText(last.policy, last.step) };
}

export function samplesFigure(samples: SampleGridData, options?: Partial<SampleGridOptions>): Displayable {
  const lines = samples.ops.map((ops, i) => `  sample ${i + 1}: ${ops.length ? ops.map((op, j) => `${op} ${samples.magnitudes[i]![j]!.toFixed(2)}`).join(' then ') : 'not augmented'}`);
  return { figure: sampleGrid(samples, options), text: [`${samples.original.length} samples, original vs augmented:`, ...lines].join('\n') };
}

export function galleryFigure(gallery: GalleryData, options?: Partial<GalleryOptions>): Displayable {
  return { figure: operatorGallery(gallery, options), text: `operator gallery: ${gallery.rows.map((r) => r.op).join(', ')} at magnitudes ${gallery.magnitudes.join(', ')}` };
}
