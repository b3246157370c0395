/**
 * Turns an architecture (a parameter table plus a forward function over it) into a
 * Model: input normalisation, variable allocation, state handling, disposal.
 */
import * as tf from '@tensorflow/tfjs-core';
import { allocate, ParamTable, type ForwardContext } from './layers';
import type { ApplyOptions, Model, ModelOptions } from './types';

export interface Architecture {
  table: ParamTable;
  forward: (ctx: ForwardContext, x: tf.Tensor4D) => tf.Tensor2D;
}

/** Per-channel mean and std of ImageNet (fractions of 255): the default for RGB input. */
const RGB_MEAN = [0.485, 0.456, 0.406];
const RGB_STD = [0.229, 0.224, 0.225];

/** Input normalisation as x * scale + offset, from per-channel mean / std in [0, 1] units. */
function normalisation(channels: number): { scale: number[]; offset: number[] } {
  const mean = channels === 3 ? RGB_MEAN : new Array<number>(channels).fill(0.5);
  const std = channels === 3 ? RGB_STD : new Array<number>(channels).fill(0.25);
  return { scale: std.map((s) => 1 / (255 * s)), offset: mean.map((m, i) => -m / std[i]!) };
}

export class FunctionalModel implements Model {
  readonly trainableVariables: readonly tf.Variable[];
  readonly stateVariables: readonly tf.Variable[];
  readonly numClasses: number;
  readonly inputShape: readonly [number, number, number];
  private readonly params: tf.Variable[];
  private readonly scale: tf.Tensor1D;
  private readonly offset: tf.Tensor1D;
  private readonly count: number;
  private disposed = false;

  constructor(readonly name: string, private readonly architecture: Architecture, options: ModelOptions) {
    this.numClasses = options.numClasses;
    this.inputShape = [...options.inputShape] as [number, number, number];
    this.params = allocate(architecture.table, name, options.seed ?? 0);
    this.trainableVariables = this.params.filter((_, i) => architecture.table.specs[i]!.trainable);
    this.stateVariables = this.params.filter((_, i) => !architecture.table.specs[i]!.trainable);
    const { scale, offset } = normalisation(options.inputShape[2]);
    this.scale = tf.keep(tf.tensor1d(scale));
    this.offset = tf.keep(tf.tensor1d(offset));
    this.count = architecture.table.trainableCount();
  }

  apply(images: tf.Tensor4D, options: ApplyOptions): tf.Tensor2D {
    if (this.disposed) throw new Error(`model '${this.name}' was disposed`);
    const [h, w, c] = this.inputShape;
    if (images.rank !== 4 || images.shape[1] !== h || images.shape[2] !== w || images.shape[3] !== c) {
      throw new Error(`model '${this.name}' expects images [N, ${h}, ${w}, ${c}], got [${images.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const x = tf.add(tf.mul(images, this.scale), this.offset) as tf.Tensor4D;
      return this.architecture.forward({ params: this.params, training: options.training, stateUpdates: options.stateUpdates, dropoutSeeds: options.dropoutSeeds }, x);
    });
  }

  parameterCount(): number {
    return this.count;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(this.params);
    tf.dispose([this.scale, this.offset]);
  }
}
