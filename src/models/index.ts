/**
 * Model factory: `createModel(name, options)` for every name in MODEL_NAMES, and
 * `countParameters` which sizes a network without allocating its weights.
 */
import { FunctionalModel, type Architecture } from './network';
import { cifarResNet, imageNetResNet } from './resnet';
import { tinyCnn } from './tiny';
import type { Model, ModelOptions } from './types';
import { wideResNet } from './wrn';

export const MODEL_NAMES = ['wrn-28-10', 'wrn-40-2', 'wrn-16-2', 'resnet-20', 'resnet-18', 'resnet-50', 'tiny-cnn'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

function architecture(name: string, options: ModelOptions): Architecture {
  const { numClasses, inputShape } = options;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`numClasses must be an integer >= 2, got ${numClasses}`);
  if (inputShape.length !== 3 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`inputShape must be [height, width, channels] of positive integers, got [${inputShape.join(', ')}]`);
  }
  const channels = inputShape[2];
  const affine = options.affineBatchNorm ?? true;
  const dropoutRate = options.dropout ?? 0;
  if (!(dropoutRate >= 0 && dropoutRate < 1)) throw new Error(`dropout must be in [0, 1), got ${dropoutRate}`);
  switch (name) {
    case 'wrn-28-10': return wideResNet(28, 10, channels, numClasses, affine, dropoutRate);
    case 'wrn-40-2': return wideResNet(40, 2, channels, numClasses, affine, dropoutRate);
    case 'wrn-16-2': return wideResNet(16, 2, channels, numClasses, affine, dropoutRate);
    case 'resnet-20': return cifarResNet(20, channels, numClasses, affine);
    case 'resnet-18': return imageNetResNet('basic', [2, 2, 2, 2], channels, numClasses, affine);
    case 'resnet-50': return imageNetResNet('bottleneck', [3, 4, 6, 3], channels, numClasses, affine);
    case 'tiny-cnn': return tinyCnn(channels, numClasses, affine);
    default: throw new Error(`unknown model '${name}'; expected one of ${MODEL_NAMES.join(', ')}`);
  }
}

/** Builds a model with seeded weights (same name, options and seed: same weights). */
export function createModel(name: ModelName | string, options: ModelOptions): Model {
  return new FunctionalModel(name, architecture(name, options), options);
}

/** Trainable scalars of a model, computed from its layer shapes without allocating tensors. */
export function countParameters(name: ModelName | string, options: ModelOptions): number {
  return architecture(name, options).table.trainableCount();
}

export type { Model, ModelOptions, ApplyOptions, StateUpdate } from './types';
