/**
 * Final training's batches: indices, crop and flip, the policy's 8-bit pass and Cutout.
 *
 * Every random choice of a batch is drawn on the training thread in one fixed order
 * (indices, crops and flips, Cutout centres, the policy's draws), the order training has
 * always used. With `prefetch` on a host backend (cpu, wasm) the next batch is drawn as
 * soon as the current one is handed out, and its pixel work goes to a worker thread
 * (./prefetch.ts) while the current batch trains; without it, the same work runs here when
 * the batch is taken. The training step draws nothing, so both give the same batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BatchSampler, cropPaddingFor, drawCropFlips, gatherImages, levelsOf } from '../data/batch';
import type { ImageSet } from '../data/types';
import { HOST_BACKENDS } from '../engine/host-kernels';
import { cutoutSquares, drawCutoutCentreValues } from '../ops/cutout';
import { resolveOptions } from '../ops';
import { layerPassPlanArrays } from '../ops/layers';
import type { FrozenPolicy, LayerDraw } from '../policy/frozen';
import type { Rng } from '../util/rng';
import { AugmentWorkers } from './prefetch';

export interface BatchOptions {
  cropFlip: boolean;
  /** Cutout side after the policy (0 = off). */
  cutout: number;
  /** Augment the next batch on a worker thread (host backends only). */
  prefetch: boolean;
}

interface Drawn {
  images: Uint8Array;
  labels: Int32Array;
  crops: Int32Array | undefined;
  centres: Float32Array | undefined;
  draws: LayerDraw[];
}

export class BatchPipeline {
  private readonly workers: AugmentWorkers | undefined;
  private ahead: { drawn: Drawn; levels: Promise<Float32Array> } | undefined;

  constructor(
    private readonly set: ImageSet,
    private readonly policy: FrozenPolicy,
    private readonly sampler: BatchSampler,
    private readonly rng: Rng,
    private readonly options: BatchOptions,
  ) {
    const host = (HOST_BACKENDS as readonly string[]).includes(tf.getBackend());
    this.workers = options.prefetch && host ? new AugmentWorkers(1) : undefined;
  }

  /** Whether batches are augmented on a worker thread. */
  get prefetching(): boolean {
    return this.workers !== undefined;
  }

  /**
   * The next batch, augmented, as tensors the caller disposes. `another`: whether a batch
   * will be taken after this one (then, when prefetching, it is started now).
   */
  async take(another: boolean): Promise<{ images: tf.Tensor4D; labels: tf.Tensor1D }> {
    if (!this.workers) return this.augmentHere(this.draw());
    const current = this.ahead ?? this.send(this.draw());
    this.ahead = undefined;
    // The next batch is drawn and sent before this one is awaited, so its pixels are
    // being worked on while this one trains.
    if (another) this.ahead = this.send(this.draw());
    const levels = await current.levels;
    return this.finish(current.drawn, levels);
  }

  async close(): Promise<void> {
    this.ahead?.levels.catch(() => undefined);
    this.ahead = undefined;
    await this.workers?.close();
  }

  private draw(): Drawn {
    const { height, width } = this.set;
    const indices = this.sampler.next();
    const n = indices.length;
    const crops = this.options.cropFlip ? drawCropFlips(this.rng, n, cropPaddingFor(height)) : undefined;
    // Centres first, then the policy's draws: the order the search draws them in.
    const centres = this.options.cutout > 0 ? drawCutoutCentreValues(this.rng, n, height, width) : undefined;
    const draws = this.policy.sample(n, this.rng);
    return { ...gatherImages(this.set, indices), crops, centres, draws };
  }

  private shapeOf(drawn: Drawn): [number, number, number, number] {
    return [drawn.labels.length, this.set.height, this.set.width, this.set.channels];
  }

  private augmentHere(drawn: Drawn): { images: tf.Tensor4D; labels: tf.Tensor1D } {
    const shape = this.shapeOf(drawn);
    const pixels = levelsOf(drawn.images, shape[0], this.set, drawn.crops);
    const images = tf.tidy(() => this.policy.applyDraws(tf.tensor4d(pixels, shape), drawn.draws));
    return this.finish(drawn, images);
  }

  private send(drawn: Drawn): { drawn: Drawn; levels: Promise<Float32Array> } {
    const shape = this.shapeOf(drawn);
    const { interpolation, fill } = resolveOptions({});
    const plan = drawn.draws.length > 0 ? layerPassPlanArrays(shape, this.policy.ops, drawn.draws) : { plan: new Int32Array(0), args: new Float32Array(0), mats: new Float32Array(0), centres: new Float32Array(0) };
    const levels = this.workers!.run({
      images: drawn.images,
      shape,
      ...(drawn.crops ? { crops: drawn.crops } : {}),
      layers: drawn.draws.length,
      ...plan,
      attrs: { ops: this.policy.ops, interpolation, fill },
    });
    // A failure surfaces when the batch is taken; until then it must not count as unhandled.
    levels.catch(() => undefined);
    return { drawn, levels };
  }

  private finish(drawn: Drawn, augmented: Float32Array | tf.Tensor4D): { images: tf.Tensor4D; labels: tf.Tensor1D } {
    const shape = this.shapeOf(drawn);
    const images = tf.tidy(() => {
      const aug = augmented instanceof tf.Tensor ? augmented : tf.tensor4d(augmented, shape);
      if (!drawn.centres) return aug;
      return cutoutSquares(aug, this.options.cutout, tf.tensor2d(drawn.centres, [shape[0], 2]));
    });
    if (augmented instanceof tf.Tensor && images !== augmented) augmented.dispose();
    return { images, labels: tf.tensor1d(drawn.labels, 'int32') };
  }
}
