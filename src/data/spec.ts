/**
 * Dataset spec strings (`<kind>:<argument>`), shared by the API and the CLI, and the
 * options every loader accepts.
 */
import type { ResizeMode } from './imageset';
import { DatasetError } from './errors';

export const DATASET_KINDS = ['cifar10', 'cifar100', 'fashion-mnist', 'mnist', 'folder', 'synthetic'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/** Where Debian's `dataset-fashion-mnist` package installs the gzipped IDX files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface DatasetSpec {
  kind: DatasetKind;
  /** A directory for file datasets, a generator name for `synthetic`. */
  argument: string;
  /** The spec as written. */
  spec: string;
}

export interface LoadDatasetOptions {
  /** [height, width] to bring images to. Default: native size; folders: [32, 32]. */
  imageSize?: [number, number];
  /** How IDX / CIFAR images reach `imageSize`: 'pad' (zero border, default) or 'bilinear'. */
  resizeMode?: ResizeMode;
  /** Channels wanted: greyscale IDX images are expanded with 3; folders are converted. */
  channels?: 1 | 3;
  /** Seed of the folder train/test split and of synthetic generation (default 0). */
  seed?: number;
  /** Synthetic: number of images to generate; files: keep the first N of the split. */
  trainCount?: number;
  testCount?: number;
  /** CIFAR-100 label byte to use (default 'fine', 100 classes; 'coarse' has 20). */
  cifar100Labels?: 'fine' | 'coarse';
  /** Folder without train/ and test/: fraction of each class held out (default 0.2). */
  testFraction?: number;
}

/** Parses `<kind>:<argument>`; `fashion-mnist` alone means Debian's install path. */
export function parseDatasetSpec(spec: string): DatasetSpec {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new DatasetError(`dataset spec is empty; expected <kind>:<argument> with kind one of ${DATASET_KINDS.join(', ')}`, String(spec));
  }
  const text = spec.trim();
  const colon = text.indexOf(':');
  const kindText = (colon < 0 ? text : text.slice(0, colon)).toLowerCase();
  const argument = colon < 0 ? '' : text.slice(colon + 1);
  const kind = (DATASET_KINDS as readonly string[]).includes(kindText) ? (kindText as DatasetKind) : undefined;
  if (kind === undefined) {
    throw new DatasetError(
      `unknown dataset kind '${kindText}' in spec '${spec}'; expected one of ${DATASET_KINDS.map((k) => `${k}:`).join(', ')}`,
      spec,
    );
  }
  if (argument === '') {
    if (kind === 'fashion-mnist') return { kind, argument: DEBIAN_FASHION_MNIST_DIR, spec: text };
    const what = kind === 'synthetic' ? 'a generator name, e.g. synthetic:colour' : `a directory, e.g. ${kind}:/data/${kind}`;
    throw new DatasetError(`dataset spec '${spec}' lacks its argument; expected ${what}`, spec);
  }
  return { kind, argument, spec: text };
}
