/**
 * Optimisers written on tfjs-core ops so their state is explicit: `state()` returns the
 * step count and slot tensors (copies the caller owns), `loadState()` restores them, and
 * `learningRate` may change before any step. Update rules follow PyTorch's SGD and
 * AdamW, the frameworks the DRA figures were produced with.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostKernelOr, registerHostKernels } from '../engine/host-kernels';
import { SGD_KERNELS, SGD_UPDATE, type SgdUpdateAttrs } from './sgd-kernel';

registerHostKernels(SGD_KERNELS);

/** A snapshot of an optimiser: plain numbers plus slot tensors owned by the holder. */
export interface OptimizerState {
  name: string;
  /** Updates applied so far. */
  step: number;
  /** Per-variable slots in a fixed order (see each optimiser); empty before the first update. */
  slots: tf.Tensor[];
}

export interface Optimizer {
  readonly name: string;
  learningRate: number;
  /** Applies one update; grads[i] belongs to variables[i]. All assignments happen after every new value is computed. */
  applyGradients(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): void;
  state(): OptimizerState;
  loadState(state: OptimizerState): void;
  dispose(): void;
}

function checkFinite(value: number, what: string, min = 0): void {
  if (!Number.isFinite(value) || value < min) throw new Error(`${what} must be a finite number >= ${min}, got ${value}`);
}

abstract class SlotOptimizer implements Optimizer {
  abstract readonly name: string;
  protected slots: tf.Variable[] = [];
  protected step = 0;
  private rate: number;

  constructor(learningRate: number, private readonly slotsPerVariable: number) {
    checkFinite(learningRate, 'learningRate');
    this.rate = learningRate;
  }

  get learningRate(): number {
    return this.rate;
  }

  set learningRate(value: number) {
    checkFinite(value, 'learningRate');
    this.rate = value;
  }

  /** New values for the variables and slots, in the order of `variables` then `slots`. */
  protected abstract update(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], step: number): { params: tf.Tensor[]; slots: tf.Tensor[] };

  applyGradients(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): void {
    if (variables.length !== grads.length) throw new Error(`${this.name}: ${variables.length} variables but ${grads.length} gradients`);
    grads.forEach((g, i) => {
      if (g == null) throw new Error(`${this.name}: gradient ${i} (${variables[i]!.name}) is missing`);
      if (g.shape.join() !== variables[i]!.shape.join()) throw new Error(`${this.name}: gradient ${i} has shape [${g.shape}] but variable ${variables[i]!.name} has [${variables[i]!.shape}]`);
    });
    if (this.slots.length === 0 && this.slotsPerVariable > 0) {
      this.slots = tf.tidy(() => Array.from({ length: this.slotsPerVariable }, () => variables.map((v) => tf.variable(tf.zerosLike(v), false))).flat());
    } else if (this.slots.length !== variables.length * this.slotsPerVariable) {
      throw new Error(`${this.name}: state holds slots for ${this.slots.length / this.slotsPerVariable} variables, got ${variables.length}`);
    }
    const next = tf.tidy(() => {
      const r = this.update(variables, grads, this.step + 1);
      return [...r.params, ...r.slots];
    });
    variables.forEach((v, i) => v.assign(next[i]!));
    this.slots.forEach((s, i) => s.assign(next[variables.length + i]!));
    tf.dispose(next);
    this.step += 1;
  }

  state(): OptimizerState {
    return { name: this.name, step: this.step, slots: this.slots.map((s) => tf.keep(s.clone())) };
  }

  loadState(state: OptimizerState): void {
    if (state.name !== this.name) throw new Error(`cannot load a '${state.name}' optimiser state into '${this.name}'`);
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`${this.name} state: step must be a non-negative integer, got ${state.step}`);
    if (state.slots.length % Math.max(1, this.slotsPerVariable) !== 0) throw new Error(`${this.name} state: ${state.slots.length} slots is not a multiple of ${this.slotsPerVariable}`);
    if (this.slots.length === state.slots.length && this.slots.every((s, i) => s.shape.join() === state.slots[i]!.shape.join())) {
      this.slots.forEach((s, i) => s.assign(state.slots[i]!));
    } else {
      tf.dispose(this.slots);
      this.slots = tf.tidy(() => state.slots.map((t) => tf.variable(t.clone(), false)));
    }
    this.step = state.step;
  }

  dispose(): void {
    tf.dispose(this.slots);
    this.slots = [];
  }
}

export interface SgdOptions {
  learningRate: number;
  /** Momentum factor (0: plain SGD). */
  momentum?: number;
  /** Nesterov momentum (PyTorch's formulation); needs momentum > 0. */
  nesterov?: boolean;
  /** Weight decay factor. */
  weightDecay?: number;
  /**
   * false (default): L2, wd * param added to the gradient before momentum, as PyTorch's
   * SGD and the DRA training code. true: param shrunk by lr * wd, apart from the gradient.
   */
  decoupledWeightDecay?: boolean;
}

/**
 * SGD with momentum (PyTorch): g = grad + wd p; buf = momentum buf + g;
 * p -= lr (nesterov ? g + momentum buf : buf). Slots: one momentum buffer per variable.
 */
export class SGD extends SlotOptimizer {
  readonly name = 'sgd';
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly decoupledWeightDecay: boolean;

  constructor(options: SgdOptions) {
    const momentum = options.momentum ?? 0;
    super(options.learningRate, momentum > 0 ? 1 : 0);
    checkFinite(momentum, 'SGD momentum');
    this.momentum = momentum;
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && momentum <= 0) throw new Error('SGD: nesterov needs momentum > 0');
    this.weightDecay = options.weightDecay ?? 0;
    checkFinite(this.weightDecay, 'SGD weightDecay');
    this.decoupledWeightDecay = options.decoupledWeightDecay ?? false;
  }

  protected update(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): { params: tf.Tensor[]; slots: tf.Tensor[] } {
    const lr = this.learningRate;
    const wd = this.weightDecay;
    const inputs: tf.NamedTensorMap = {};
    variables.forEach((p, i) => {
      inputs[`p${i}`] = p;
      inputs[`g${i}`] = grads[i]!;
      if (this.momentum > 0) inputs[`b${i}`] = this.slots[i]!;
    });
    const attrs: SgdUpdateAttrs = { count: variables.length, learningRate: lr, momentum: this.momentum, nesterov: this.nesterov, weightDecay: wd, decoupledWeightDecay: this.decoupledWeightDecay };
    const when = variables.every((v, i) => v.dtype === 'float32' && grads[i]!.dtype === 'float32');
    // The engine unwraps a single output; the composite returns the same flat list.
    const result = hostKernelOr<tf.Tensor | tf.Tensor[]>(SGD_UPDATE, { inputs, attrs, when }, () => this.compositeUpdate(variables, grads));
    const out = Array.isArray(result) ? result : [result];
    return { params: out.slice(0, variables.length), slots: out.slice(variables.length) };
  }

  /** The update from tf ops, for backends without the host kernel: parameters, then momentum slots. */
  private compositeUpdate(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): tf.Tensor[] {
    const lr = this.learningRate;
    const wd = this.weightDecay;
    const params: tf.Tensor[] = [];
    const slots: tf.Tensor[] = [];
    variables.forEach((p, i) => {
      let g = grads[i]!;
      let base: tf.Tensor = p;
      if (wd > 0 && this.decoupledWeightDecay) base = tf.mul(p, 1 - lr * wd);
      else if (wd > 0) g = tf.add(g, tf.mul(p, wd));
      let direction = g;
      if (this.momentum > 0) {
        const buf = tf.add(tf.mul(this.slots[i]!, this.momentum), g);
        slots.push(buf);
        direction = this.nesterov ? tf.add(g, tf.mul(buf, this.momentum)) : buf;
      }
      params.push(tf.sub(base, tf.mul(direction, lr)));
    });
    return [...params, ...slots];
  }
}

export interface AdamWOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (PyTorch AdamW default 0.01). */
  weightDecay?: number;
}

/**
 * AdamW (Loshchilov & Hutter; PyTorch's update): p *= 1 - lr wd; m = b1 m + (1 - b1) g;
 * v = b2 v + (1 - b2) g^2; p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 * Slots: first moments of every variable, then second moments.
 */
export class AdamW extends SlotOptimizer {
  readonly name = 'adamw';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;

  constructor(options: AdamWOptions) {
    super(options.learningRate, 2);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    for (const [k, v] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw new Error(`AdamW ${k} must be in [0, 1), got ${v}`);
    }
    checkFinite(this.epsilon, 'AdamW epsilon');
    checkFinite(this.weightDecay, 'AdamW weightDecay');
  }

  protected update(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], step: number): { params: tf.Tensor[]; slots: tf.Tensor[] } {
    const lr = this.learningRate;
    const n = variables.length;
    const correction1 = 1 - this.beta1 ** step;
    const correction2 = 1 - this.beta2 ** step;
    const params: tf.Tensor[] = [];
    const firsts: tf.Tensor[] = [];
    const seconds: tf.Tensor[] = [];
    variables.forEach((p, i) => {
      const g = grads[i]!;
      const m = tf.add(tf.mul(this.slots[i]!, this.beta1), tf.mul(g, 1 - this.beta1));
      const v = tf.add(tf.mul(this.slots[n + i]!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
      const denominator = tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon);
      const decayed = this.weightDecay > 0 ? tf.mul(p, 1 - lr * this.weightDecay) : p;
      params.push(tf.sub(decayed, tf.mul(tf.div(m, denominator), lr / correction1)));
      firsts.push(m);
      seconds.push(v);
    });
    return { params, slots: [...firsts, ...seconds] };
  }
}
