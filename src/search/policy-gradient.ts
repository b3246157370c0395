/**
 * The policy half of a search step: the loss on a batch of the policy half,
 * CE(model(aug(x)), y) + lambda KL(p(x) || p(aug(x))) as in the official learner.py, its
 * gradient with respect to the policy (first order by default; the one-step unrolled,
 * DARTS-style second order as an option), and the AdamW update with the clip of mu and
 * sigma. Gradients reach only the policy; the BatchNorm running statistics move with the
 * training-mode forwards, as Keras moves them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StateUpdate } from '../models/types';
import type { PolicyDraw } from '../policy/dra';
import { accuracy, crossEntropy, klDivergence, sumScalars } from '../train/losses';
import { drawAugmentation } from './augment';
import type { SearchConfig } from './config';
import type { Batch, SearchState } from './state';

export interface PolicyStepStats {
  loss: number;
  crossEntropy: number;
  kl: number;
  accuracy: number;
}

/**
 * Computes the policy loss on `val` and applies the policy update when it is finite.
 * `train` is the model half's batch, which only the second-order gradient reads.
 */
export async function policyStep(state: SearchState, config: SearchConfig, val: Batch, train: Batch): Promise<PolicyStepStats> {
  const vars = state.policy.trainableVariables;
  const augmentation = drawAugmentation(state, config, val.images);
  // The second-order objective is evaluated at perturbed weights, so its forwards leave
  // the running statistics alone.
  const updates: StateUpdate[] | undefined = config.policyGradient === 'first' ? [] : undefined;
  const trainDraw = config.policyGradient === 'second' ? state.policy.sample(train.images.shape[0], state.rng) : undefined;
  let logitsOriginal: tf.Tensor2D | undefined;
  let stats: tf.Tensor | undefined;
  let grads: tf.Tensor[] = [];
  const objective = (): tf.Scalar => {
    const logits = state.model.apply(augmentation.apply(), { training: true, dropoutSeeds: state.rng, ...(updates ? { stateUpdates: updates } : {}) });
    const ce = crossEntropy(logits, val.labels);
    const kl = logitsOriginal ? klDivergence(logitsOriginal, logits) : tf.scalar(0);
    const loss = config.useKl ? (tf.add(ce, tf.mul(kl, config.klWeight)) as tf.Scalar) : ce;
    stats = tf.keep(tf.stack([loss, ce, kl, accuracy(logits, val.labels)]));
    return loss;
  };
  try {
    if (config.useKl) logitsOriginal = unaugmentedForward(state, val.images, updates !== undefined);
    try {
      if (vars.length === 0) tf.tidy(() => void objective()); // every ablation switch off: the loss only
      else if (config.policyGradient === 'first') {
        const result = tf.variableGrads(objective, vars);
        grads = vars.map((v) => result.grads[v.name]!);
        result.value.dispose();
      } else {
        grads = await secondOrderGradient(state, objective, train, trainDraw!, vars);
      }
      if (updates) commitStateUpdates(updates);
    } finally {
      tf.dispose((updates ?? []).map((u) => u.value));
    }
    const [loss, ce, kl, acc] = Array.from(await stats!.data()) as [number, number, number, number];
    if (vars.length > 0 && [loss, ce, kl].every(Number.isFinite)) {
      state.policyOptimizer.applyGradients(vars, grads);
      state.policy.clip();
      await state.policy.refresh();
    }
    return { loss, crossEntropy: ce, kl, accuracy: acc };
  } finally {
    tf.dispose(grads);
    augmentation.dispose();
    stats?.dispose();
    logitsOriginal?.dispose();
  }
}

/**
 * The un-augmented forward of the KL term, in training mode as officially. It runs before
 * the augmented forward: its logits are constants to the policy, and its running-statistic
 * updates are assigned at once so the augmented forward's compose with them (officially
 * the augmented forward comes first; the order only changes how the two batches are
 * weighted in the running averages).
 */
function unaugmentedForward(state: SearchState, images: tf.Tensor4D, moveStatistics: boolean): tf.Tensor2D {
  const updates: StateUpdate[] = [];
  try {
    const logits = tf.tidy(() => state.model.apply(images, { training: true, dropoutSeeds: state.rng, ...(moveStatistics ? { stateUpdates: updates } : {}) }));
    commitStateUpdates(updates);
    return logits;
  } finally {
    tf.dispose(updates.map((u) => u.value));
  }
}

/** Assigns BatchNorm running-statistic updates now (the step's transaction restores them on failure). */
function commitStateUpdates(updates: StateUpdate[]): void {
  for (const u of updates) u.variable.assign(u.value);
  tf.dispose(updates.map((u) => u.value));
  updates.length = 0;
}

/**
 * One-step unrolled policy gradient (DARTS, finite-difference Hessian-vector product):
 * g = d/dalpha L_val(w', alpha) - xi (d/dalpha L_train(w+, alpha) - d/dalpha L_train(w-, alpha)) / (2 eps),
 * with w' = w - xi dL_train/dw, w± = w ± eps dL_val(w')/dw', eps = 0.01 / |dL_val(w')/dw'|.
 * The model's weights are back as they were when it returns.
 */
async function secondOrderGradient(state: SearchState, valObjective: () => tf.Scalar, train: Batch, trainDraw: PolicyDraw, policyVars: tf.Variable[]): Promise<tf.Tensor[]> {
  const modelVars = [...state.model.trainableVariables];
  const xi = state.modelOptimizer.learningRate;
  const weights = state.policy.values().weights;
  const trainObjective = (): tf.Scalar => crossEntropy(state.model.apply(state.policy.augmentWith(train.images, trainDraw, weights), { training: true }), train.labels);
  const original = modelVars.map((v) => tf.keep(v.clone()));
  try {
    // w' = w - xi * dL_train/dw
    const gTrain = tf.variableGrads(trainObjective, modelVars);
    gTrain.value.dispose();
    tf.tidy(() => modelVars.forEach((v) => v.assign(tf.sub(v, tf.mul(gTrain.grads[v.name]!, xi)))));
    tf.dispose(Object.values(gTrain.grads));
    // d/dalpha and d/dw' of L_val at w'
    const all = tf.variableGrads(valObjective, [...policyVars, ...modelVars]);
    all.value.dispose();
    const dAlpha = policyVars.map((v) => all.grads[v.name]!);
    const dW = modelVars.map((v) => all.grads[v.name]!);
    const normTensor = tf.tidy(() => tf.sqrt(sumScalars(dW.map((g) => tf.sum(tf.square(g))))));
    const norm = (await normTensor.data())[0]!;
    normTensor.dispose();
    const eps = 0.01 / Math.max(norm, 1e-12);
    const gradAt = (sign: number): tf.Tensor[] => {
      tf.tidy(() => modelVars.forEach((v, i) => v.assign(tf.add(original[i]!, tf.mul(dW[i]!, sign * eps)))));
      const r = tf.variableGrads(trainObjective, policyVars);
      r.value.dispose();
      return policyVars.map((v) => r.grads[v.name]!);
    };
    const gPlus = gradAt(1);
    const gMinus = gradAt(-1);
    const result = dAlpha.map((g, i) => tf.tidy(() => tf.sub(g, tf.mul(tf.sub(gPlus[i]!, gMinus[i]!), xi / (2 * eps)))));
    tf.dispose([...dAlpha, ...dW, ...gPlus, ...gMinus]);
    return result;
  } finally {
    modelVars.forEach((v, i) => v.assign(original[i]!));
    tf.dispose(original);
  }
}
