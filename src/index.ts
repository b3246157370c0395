/**
 * dralab: Differentiable RandAugment on TensorFlow.js.
 * Loading this module registers tfjs gradients; call selectBackend() (or create a
 * search, which does) before computing.
 */
export * from './engine/gradients';
export * from './backend/select';
export * from './util/rng';
export * from './ops';
export { applyLayers, applyLayersComposite, type LayerPlan } from './ops/layers';
export * from './policy';
export * from './data';
export { createModel, countParameters, MODEL_NAMES, type ModelName } from './models';
export type { Model, ModelOptions, StateUpdate, ApplyOptions as ModelApplyOptions } from './models/types';
export * from './train/optim';
export * from './train/losses';
export * from './train/schedule';
export * from './train/step';
export * from './train/train';
export * from './search';
export * from './notebook';
