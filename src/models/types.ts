import type * as tf from '@tensorflow/tfjs-core';

/** A pending update of a non-trainable state variable (BatchNorm running statistics). */
export interface StateUpdate {
  variable: tf.Variable;
  /** The new value; kept (tf.keep) until committed or disposed by the caller. */
  value: tf.Tensor;
}

export interface ApplyOptions {
  /** Batch statistics and state updates when true; running statistics when false. */
  training: boolean;
  /**
   * Where a training-mode forward pass pushes its BatchNorm running-statistic updates.
   * The caller assigns them only after the whole step succeeded (steps are atomic);
   * when absent, no running statistics are updated.
   */
  stateUpdates?: StateUpdate[];
  /**
   * Draws the seeds of this forward's dropout masks (training mode only; models built
   * with a dropout rate). Without it a training-mode forward drops nothing.
   */
  dropoutSeeds?: { nextUint32(): number };
}

/**
 * An image classifier built from plain tfjs-core ops and variables.
 * Input: [N, H, W, C] float32 in [0, 255] (the model normalises internally).
 * Output: logits [N, numClasses].
 */
export interface Model {
  readonly name: string;
  readonly numClasses: number;
  readonly inputShape: readonly [number, number, number];
  /** Variables the optimiser updates, in a stable order (checkpoints rely on it). */
  readonly trainableVariables: readonly tf.Variable[];
  /** Non-trainable state (BatchNorm running mean / variance), in a stable order. */
  readonly stateVariables: readonly tf.Variable[];
  apply(images: tf.Tensor4D, options: ApplyOptions): tf.Tensor2D;
  /** Number of trainable scalars. */
  parameterCount(): number;
  dispose(): void;
}

export interface ModelOptions {
  numClasses: number;
  /** [H, W, C] of the input images. */
  inputShape: readonly [number, number, number];
  /** BatchNorm with learned scale and offset; the DRA search uses false. */
  affineBatchNorm?: boolean;
  /** Seed for the weight initialisation (same seed, same weights). */
  seed?: number;
  /**
   * Dropout rate inside each wide-ResNet block (between its two convolutions, as in the
   * official DRA search model, which uses 0.3); other models have no dropout. Default 0.
   */
  dropout?: number;
}
