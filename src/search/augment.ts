/**
 * A batch's augmentation in a search step, as officially: DRA with the current policy,
 * then a fixed-size Cutout. Everything random is drawn up front from the search's stream
 * (the policy's draws, then the Cutout centres), so an objective evaluated twice (the
 * gradient tape, the second-order gradient's replays) sees the same augmentation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cutoutSquares, drawCutoutCentres } from '../ops/cutout';
import type { PolicyDraw } from '../policy/dra';
import type { SearchConfig } from './config';
import type { SearchState } from './state';

export interface StepAugmentation {
  /** The augmented batch; differentiable with respect to the policy's variables. */
  apply(): tf.Tensor4D;
  dispose(): void;
}

export function drawAugmentation(state: SearchState, config: Pick<SearchConfig, 'cutout'>, images: tf.Tensor4D): StepAugmentation {
  const [n, height, width] = images.shape;
  // The selecting weights as they are now: the draw and the forward use the same ones.
  const weights = state.policy.values().weights;
  const draw: PolicyDraw = state.policy.sample(n, state.rng);
  const centres = config.cutout > 0 ? drawCutoutCentres(state.rng, n, height, width) : undefined;
  return {
    apply: () => {
      const augmented = state.policy.augmentWith(images, draw, weights);
      return centres ? cutoutSquares(augmented, config.cutout, centres) : augmented;
    },
    dispose: () => centres?.dispose(),
  };
}
