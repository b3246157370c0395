/**
 * Augmented samples for display: the first images of a search's policy half, augmented
 * by its current policy, with the operators and magnitudes each layer applied. Drawn
 * from a named side stream of the run's seed and step, so showing samples never moves
 * the search's own random stream (a run looked at is the run not looked at).
 */
import * as tf from '@tensorflow/tfjs-core';
import { toTensors } from '../data';
import type { AugmentTrace } from '../policy/dra';
import type { DraSearch } from '../search/search';
import { Rng, streamSeed } from '../util/rng';
import type { AugmentedSamples } from './images';

/** The side stream's name: part of the seed, so renaming it changes the samples shown. */
const SAMPLES_STREAM = 'display-samples';

export async function augmentSamples(search: Pick<DraSearch, 'proxy' | 'policy' | 'config' | 'stepCount'>, count: number): Promise<AugmentedSamples> {
  const set = search.proxy.policy;
  const n = Math.min(count, set.count);
  const indices = Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(streamSeed(search.config.seed, SAMPLES_STREAM, search.stepCount));
  const trace: AugmentTrace = { opIndex: [], applied: [], magnitude: [] };
  const { images, labels } = toTensors(set, indices);
  const aug = tf.tidy(() => tf.clipByValue(tf.round(search.policy.augment(images, rng, trace)), 0, 255));
  const pixels = await aug.data();
  const originalPixels = await images.data();
  tf.dispose([images, labels, aug]);
  const { height, width, channels } = set;
  const size = height * width * channels;
  const samples: AugmentedSamples = { original: [], augmented: [], ops: [], magnitudes: [], height, width, channels };
  for (let i = 0; i < n; i++) {
    samples.original.push(Uint8Array.from(originalPixels.subarray(i * size, (i + 1) * size)));
    samples.augmented.push(Uint8Array.from(pixels.subarray(i * size, (i + 1) * size)));
    samples.ops.push(trace.opIndex.map((layer, d) => (trace.applied[d]![i] ? search.policy.ops[layer[i]!]! : 'Identity')));
    samples.magnitudes.push(trace.magnitude.map((layer, d) => (trace.applied[d]![i] ? layer[i]! : 0)));
  }
  return samples;
}
