/**
 * The learnable DRA policy: for each of D layers, selecting weights w, magnitude means
 * mu and standard deviations sigma over K operators. Sampling (plain arrays from the
 * seeded Rng) is kept apart from applying, so a draw can be replayed exactly: the
 * second-order policy gradient needs the same augmentation under several model weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { applyPerSample, OPS, stopGradient, straightThroughMagnitude } from '../ops';
import { isAffineOp } from '../ops/geometric';
import type { OpName } from '../ops/names';
import type { PolicySnapshot } from './snapshot';
import { Rng } from '../util/rng';
import { resolveSettings } from '../util/settings';
import { checkPolicySettings, draPolicySettingsSchema, policyOps, type DraPolicySettings } from './config';
import { FrozenPolicy } from './frozen';
import { POLICY_FORMAT, POLICY_VERSION, softmax, validatePolicy } from './schema';

/** The policy's settings (schema, defaults and docs in ./config). */
export type DraPolicyConfig = DraPolicySettings;
export { DRA_POLICY_DEFAULTS, MAGNITUDE_GRADIENTS, type MagnitudeGradient } from './config';

/** The random part of one augmentation of a batch: replayable plain arrays. */
export interface PolicyDraw {
  /** Per layer: Gumbel noise [N * K], row-major. */
  gumbel: Float32Array[];
  /** Per layer: whether the apply gate let the op through, per sample. */
  applied: Uint8Array[];
  /** Per layer: standard-normal eps for the reparameterised magnitude, per sample. */
  eps: Float32Array[];
  /** Per layer: ±1 per sample (used by signed ops). */
  sign: Float32Array[];
  /** Per layer: Cutout square centres [N * 2] as (row, column) fractions in [0, 1). */
  cutoutCentre: Float32Array[];
}

/** What a draw chose for each sample (for inspection and sample grids). */
export interface AugmentTrace {
  /** Per layer, per sample: chosen op index (the Gumbel argmax), whether applied, magnitude. */
  opIndex: Int32Array[];
  applied: Uint8Array[];
  magnitude: Float32Array[];
}

export class DraPolicy {
  private settings: DraPolicyConfig;
  /** Selecting weights [D, K]. */
  readonly weights: tf.Variable;
  /** Magnitude means [D, K], clipped to [0, magnitudeScale]. */
  readonly mu: tf.Variable;
  /** Magnitude standard deviations [D, K], clipped to [0, 1]. */
  readonly sigma: tf.Variable;

  /**
   * Host copies of w, mu and sigma, kept in step with the variables so snapshots and
   * sampling never force a synchronous device read (impossible on WebGPU in Node).
   * Whoever changes the variables calls `refresh()` (the search does after each update).
   */
  private host: { weights: Float32Array; mu: Float32Array; sigma: Float32Array };

  constructor(config: Partial<DraPolicyConfig> = {}) {
    this.settings = resolveSettings('DRA policy settings', draPolicySettingsSchema, config, checkPolicySettings);
    const { depth, ops } = this.config;
    const shape: [number, number] = [depth, ops.length];
    this.weights = tf.variable(tf.fill(shape, this.config.initialWeight), this.config.learnWeights, undefined, 'float32');
    this.mu = tf.variable(tf.fill(shape, this.config.initialMu), this.config.learnMu, undefined, 'float32');
    this.sigma = tf.variable(tf.fill(shape, this.config.initialSigma), this.config.learnSigma, undefined, 'float32');
    const count = depth * ops.length;
    this.host = {
      weights: new Float32Array(count).fill(this.config.initialWeight),
      mu: new Float32Array(count).fill(this.config.initialMu),
      sigma: new Float32Array(count).fill(this.config.initialSigma),
    };
  }

  /** Re-reads w, mu and sigma from the device (asynchronously) into the host copies. */
  async refresh(): Promise<void> {
    const [weights, mu, sigma] = await Promise.all([this.weights.data(), this.mu.data(), this.sigma.data()]);
    this.host = { weights: Float32Array.from(weights), mu: Float32Array.from(mu), sigma: Float32Array.from(sigma) };
  }

  /** The host copies of w, mu, sigma, each [D * K] row-major. */
  values(): { weights: Float32Array; mu: Float32Array; sigma: Float32Array } {
    return this.host;
  }

  get config(): Readonly<DraPolicyConfig> {
    return this.settings;
  }

  /** Changes the Gumbel-softmax temperature for the draws that follow (a search does so between steps). */
  setTemperature(temperature: number): void {
    if (!(temperature > 0 && Number.isFinite(temperature))) throw new Error(`temperature must be > 0, got ${temperature}`);
    this.settings = { ...this.settings, temperature };
  }

  get depth(): number {
    return this.config.depth;
  }

  get ops(): readonly OpName[] {
    return policyOps(this.config);
  }

  /** Every policy variable, in checkpoint order. */
  get variables(): tf.Variable[] {
    return [this.weights, this.mu, this.sigma];
  }

  /** The variables the search updates under the current ablation switches. */
  get trainableVariables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    if (this.config.learnWeights) out.push(this.weights);
    if (this.config.learnMu) out.push(this.mu);
    if (this.config.learnSigma) out.push(this.sigma);
    return out;
  }

  /** Draws the random part of augmenting n images. */
  sample(n: number, rng: Rng): PolicyDraw {
    const k = this.ops.length;
    const draw: PolicyDraw = { gumbel: [], applied: [], eps: [], sign: [], cutoutCentre: [] };
    const [pMin, pMax] = this.config.applyProbability;
    for (let d = 0; d < this.depth; d++) {
      draw.gumbel.push(rng.gumbel(n * k));
      const applied = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const p = pMin + (pMax - pMin) * rng.next();
        applied[i] = rng.next() < p ? 1 : 0;
      }
      draw.applied.push(applied);
      draw.eps.push(rng.normal(n));
      draw.sign.push(rng.signs(n));
      draw.cutoutCentre.push(rng.uniform(2 * n));
    }
    return draw;
  }

  /**
   * Augments a batch with a draw, differentiably w.r.t. (w, mu, sigma) and the images,
   * as the official `DifferentiableRandAugment.call` does per sample. Per layer:
   * h = hard Gumbel-softmax (forward one-hot, backward the soft sample's gradient);
   * m = clip(mu + eps sigma, 0, scale) of the chosen op; where the apply gate is open the
   * op sees x + m - stopgrad(m), so every op passes a (straight-through) gradient to its
   * magnitude, and where it is closed the sample passes x untouched (no magnitude
   * gradient); the layer output is op(x) h_chosen + sum of the other h (which are 0
   * forward but give every weight a gradient). `weightValues` are w's current values
   * (read once per step by the caller).
   */
  augmentWith(images: tf.Tensor4D, draw: PolicyDraw, weightValues: Float32Array, trace?: AugmentTrace): tf.Tensor4D {
    const n = images.shape[0];
    const k = this.ops.length;
    // Which ops take their magnitude's gradient only through the straight-through term.
    const argumentGradient = this.ops.map((name) => OPS[name].magnitudeGradient && (this.config.magnitudeGradient === 'exact' || !isAffineOp(name)));
    return tf.tidy(() => {
      let x = images;
      for (let d = 0; d < this.depth; d++) {
        const gumbel = draw.gumbel[d]!;
        const chosen = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          let best = 0;
          let bestValue = -Infinity;
          for (let j = 0; j < k; j++) {
            const v = weightValues[d * k + j]! + gumbel[i * k + j]!;
            if (v > bestValue) {
              bestValue = v;
              best = j;
            }
          }
          chosen[i] = best;
        }
        const oneHotValues = new Float32Array(n * k);
        for (let i = 0; i < n; i++) oneHotValues[i * k + chosen[i]!] = 1;
        const oneHot = tf.tensor2d(oneHotValues, [n, k]);
        const wRow = tf.slice(this.weights, [d, 0], [1, k]);
        const soft = tf.softmax(tf.div(tf.add(wRow, tf.tensor2d(gumbel, [n, k])), this.config.temperature));
        const hard = tf.add(tf.sub(oneHot, stopGradient(soft)), soft); // [N, K]
        const hChosen = tf.sum(tf.mul(hard, oneHot), 1); // forward 1
        const hOthers = tf.sum(tf.mul(hard, tf.sub(1, oneHot)), 1); // forward 0

        const muRow = tf.reshape(tf.slice(this.mu, [d, 0], [1, k]), [k]);
        const sigmaRow = tf.reshape(tf.slice(this.sigma, [d, 0], [1, k]), [k]);
        const chosenIdx = tf.tensor1d(chosen, 'int32');
        const m = tf.clipByValue(
          tf.add(tf.gather(muRow, chosenIdx), tf.mul(tf.tensor1d(draw.eps[d]!), tf.gather(sigmaRow, chosenIdx))),
          0,
          this.config.magnitudeScale,
        ) as tf.Tensor1D;
        const opIndex = new Int32Array(n);
        const applied = draw.applied[d]!;
        const gate = new Float32Array(n);
        const ownGradient = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          opIndex[i] = applied[i] ? chosen[i]! : -1;
          gate[i] = applied[i] ? 1 : 0;
          ownGradient[i] = applied[i] && argumentGradient[chosen[i]!] ? 1 : 0;
        }
        // x + m - stopgrad(m) only where the gate is open (m times a constant 0/1 gate):
        // a closed gate returns x itself.
        const xm = straightThroughMagnitude(x, tf.mul(m, tf.tensor1d(gate)) as tf.Tensor1D);
        // The magnitude the op computes its argument from: m where the op's own argument
        // gradient counts, stopgrad(m) elsewhere (the same values forward).
        const own = tf.tensor1d(ownGradient);
        const opMagnitude = tf.add(tf.mul(m, own), tf.mul(stopGradient(m), tf.sub(1, own))) as tf.Tensor1D;
        let y = applyPerSample(xm, this.ops, opIndex, opMagnitude, draw.sign[d]!, { interpolation: this.config.interpolation, fill: this.config.fill, cutoutCentre: tf.tensor2d(draw.cutoutCentre[d]!, [n, 2]) });
        if (!this.config.operatorGradients) y = tf.add(xm, stopGradient(tf.sub(y, xm))) as tf.Tensor4D;
        x = tf.add(tf.mul(y, tf.reshape(hChosen, [n, 1, 1, 1])), tf.reshape(hOthers, [n, 1, 1, 1])) as tf.Tensor4D;

        if (trace) {
          // The same magnitudes as `m`, from the host copies (no device read).
          const magnitudes = new Float32Array(n);
          for (let i = 0; i < n; i++) {
            const j = d * k + chosen[i]!;
            magnitudes[i] = Math.min(this.config.magnitudeScale, Math.max(0, this.host.mu[j]! + draw.eps[d]![i]! * this.host.sigma[j]!));
          }
          trace.opIndex.push(chosen);
          trace.applied.push(applied);
          trace.magnitude.push(magnitudes);
        }
      }
      return x;
    });
  }

  /** Samples and augments in one call (training-mode augmentation). */
  augment(images: tf.Tensor4D, rng: Rng, trace?: AugmentTrace): tf.Tensor4D {
    const draw = this.sample(images.shape[0], rng);
    return this.augmentWith(images, draw, this.host.weights, trace);
  }

  /** Clips mu to [0, scale] and sigma to [0, 1] after an update, as the official code does; call refresh() after. */
  clip(): void {
    tf.tidy(() => {
      this.mu.assign(tf.clipByValue(this.mu, 0, this.config.magnitudeScale));
      this.sigma.assign(tf.clipByValue(this.sigma, 0, 1));
    });
  }

  /** softmax(w) per layer, as plain arrays [D][K]. */
  probabilities(): number[][] {
    return this.rows(this.host.weights).map((row) => softmax(row));
  }

  private rows(values: Float32Array): number[][] {
    const k = this.ops.length;
    return Array.from({ length: this.depth }, (_, d) => Array.from(values.subarray(d * k, (d + 1) * k)));
  }

  snapshot(meta?: Record<string, unknown>): PolicySnapshot {
    const w = this.rows(this.host.weights);
    const mu = this.rows(this.host.mu);
    const sigma = this.rows(this.host.sigma);
    return {
      format: POLICY_FORMAT,
      version: POLICY_VERSION,
      ops: [...this.ops],
      layers: w.map((row, d) => ({ weights: row, probabilities: softmax(row), mu: mu[d]!.map((v) => Math.min(this.config.magnitudeScale, Math.max(0, v))), sigma: sigma[d]!.map((v) => Math.min(1, Math.max(0, v))) })),
      applyProbability: [...this.config.applyProbability],
      magnitudeScale: this.config.magnitudeScale,
      ...(meta ? { meta } : {}),
    };
  }

  /** The sampler for final training: op ~ Categorical(softmax(w)), m ~ N(mu, sigma), same gate. */
  freeze(meta?: Record<string, unknown>): FrozenPolicy {
    return new FrozenPolicy(validatePolicy(this.snapshot({ name: 'dra', ...meta })));
  }

  /** Loads parameter values (e.g. from a policy file with weights) into this policy. */
  setValues(values: { weights: number[][]; mu: number[][]; sigma: number[][] }): void {
    const shape = [this.depth, this.ops.length];
    for (const [name, arr] of Object.entries(values)) {
      if (arr.length !== this.depth || arr.some((row) => row.length !== this.ops.length)) {
        throw new Error(`policy ${name}: expected shape [${shape.join(', ')}]`);
      }
    }
    tf.tidy(() => {
      this.weights.assign(tf.tensor2d(values.weights));
      this.mu.assign(tf.tensor2d(values.mu));
      this.sigma.assign(tf.tensor2d(values.sigma));
    });
    this.host = { weights: Float32Array.from(values.weights.flat()), mu: Float32Array.from(values.mu.flat()), sigma: Float32Array.from(values.sigma.flat()) };
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
