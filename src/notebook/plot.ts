/**
 * `plot.*`: one call, one rich output. Each takes library objects (a search, a history,
 * a policy, a loaded run) and returns nothing, so a tslab cell prints nothing else.
 */
import type { GalleryOptions, LossCurveOptions, MagnitudeDistributionOptions, ProbabilityHeatmapOptions, ProbabilityTrajectoryOptions, SampleGridOptions } from '../../widgets';
import type { StepRecord } from '../search/record';
import type { BundleOptions } from './bundle';
import { display } from './display';
import { galleryFigure, lossesFigure, magnitudesFigure, probabilitiesFigure, samplesFigure, trajectoriesFigure } from './figures';
import { encodeSamples, galleryData, type AugmentedSamples, type GalleryInput, type GallerySettings } from './images';
import { augmentSamples } from './samples';
import type { HistoryLike, PolicySource, SearchLike } from './shape';

/**
 * Where sample images come from: a search (its policy half, augmented by its current
 * policy; see ./samples), or any object that augments a few images itself.
 */
export type SampleSource = Parameters<typeof augmentSamples>[0] | { augmentSamples(count: number): AugmentedSamples | Promise<AugmentedSamples> };

function samplesOf(source: SampleSource, count: number): Promise<AugmentedSamples> {
  return Promise.resolve('augmentSamples' in source ? source.augmentSamples(count) : augmentSamples(source, count));
}

export const plot = {
  /** Train CE, val loss and CE, KL and accuracies over the steps. */
  losses(source: HistoryLike | SearchLike | StepRecord[], options?: Partial<LossCurveOptions> & BundleOptions): void {
    display(lossesFigure(source, options), options);
  },
  /** Per-layer operator probabilities, with a step slider over the recorded snapshots. */
  probabilities(source: PolicySource, options?: Partial<ProbabilityHeatmapOptions> & BundleOptions): void {
    display(probabilitiesFigure(source, options), options);
  },
  /** Each operator's probability over the steps, one layer at a time. */
  trajectories(source: PolicySource, options?: Partial<ProbabilityTrajectoryOptions> & BundleOptions): void {
    display(trajectoriesFigure(source, options), options);
  },
  /** mu ± sigma of each operator's magnitude, per layer and recorded step. */
  magnitudes(source: PolicySource, options?: Partial<MagnitudeDistributionOptions> & BundleOptions): void {
    display(magnitudesFigure(source, options), options);
  },
  /** Original vs augmented images with the operators and magnitudes applied to each. */
  async samples(search: SampleSource, options?: Partial<SampleGridOptions> & BundleOptions & { count?: number }): Promise<void> {
    const count = options?.count ?? 8;
    if (!Number.isInteger(count) || count < 1) throw new Error(`plot.samples: count must be a positive integer, got ${count}`);
    display(samplesFigure(await encodeSamples(await samplesOf(search, count)), options), options);
  },
  /** Each operator applied to one image at increasing magnitudes (from a search: its first policy-split image). */
  async gallery(source: GalleryInput | SampleSource, options?: Partial<GallerySettings> & Partial<GalleryOptions> & BundleOptions): Promise<void> {
    let input: GalleryInput;
    if ('augmentSamples' in source || 'proxy' in source) {
      const samples = await samplesOf(source, 1);
      input = { pixels: samples.original[0]!, height: samples.height, width: samples.width, channels: samples.channels };
    } else {
      input = source;
    }
    display(galleryFigure(await galleryData(input, options), options), options);
  },
};
