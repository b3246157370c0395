/**
 * Datasets by spec string: `cifar10:<dir>`, `cifar100:<dir>`, `fashion-mnist[:<dir>]`,
 * `mnist:<dir>`, `folder:<dir>`, `synthetic:<name>`.
 */
import type { Dataset } from './types';
import { parseDatasetSpec, type LoadDatasetOptions } from './spec';
import { loadCifar10, loadCifar100 } from './cifar';
import { loadIdxDataset } from './idx';
import { loadImageFolder } from './folder';
import { generateSynthetic } from './synthetic';
import { expandToRgb, fitImageSet, takeFirst } from './imageset';

export type * from './types';
export * from './errors';
export * from './spec';
export * from './imageset';
export * from './cifar';
export * from './idx';
export * from './folder';
export * from './synthetic';
export * from './proxy';
export * from './batch';

/** Loads (or generates) the dataset a spec string names. */
export async function loadDataset(spec: string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  const parsed = parseDatasetSpec(spec);
  if (parsed.kind === 'synthetic') {
    return generateSynthetic(parsed.argument, options, parsed.spec);
  }
  if (parsed.kind === 'folder') {
    const data = await loadImageFolder(parsed.argument, parsed.spec, options);
    return limitCounts(data, options);
  }
  let data: Dataset;
  if (parsed.kind === 'cifar10') data = loadCifar10(parsed.argument, parsed.spec);
  else if (parsed.kind === 'cifar100') data = loadCifar100(parsed.argument, parsed.spec, options.cifar100Labels ?? 'fine');
  else data = loadIdxDataset(parsed.argument, parsed.spec, parsed.kind === 'mnist' ? 'MNIST' : 'Fashion-MNIST');
  data = limitCounts(data, options);
  const mode = options.resizeMode ?? 'pad';
  let { train, test } = data;
  if (options.channels === 3) {
    train = expandToRgb(train);
    test = expandToRgb(test);
  } else if (options.channels === 1 && train.channels !== 1) {
    throw new RangeError(`${spec}: images have ${train.channels} channels; converting to 1 channel is only supported for folder datasets`);
  }
  train = fitImageSet(train, options.imageSize, mode);
  test = fitImageSet(test, options.imageSize, mode);
  const shape = `${train.height}x${train.width}x${train.channels}`;
  return { ...data, train, test, description: `${data.description}; served as ${shape}` };
}

function limitCounts(data: Dataset, options: LoadDatasetOptions): Dataset {
  if (options.trainCount === undefined && options.testCount === undefined) return data;
  return {
    ...data,
    train: takeFirst(data.train, options.trainCount, 'trainCount'),
    test: takeFirst(data.test, options.testCount, 'testCount'),
  };
}
