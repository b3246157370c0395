/**
 * Proxy data for the search (paper, sec. IV): a small subset of the training set split
 * into two equal halves, one to update the model and one to update the policy.
 * CIFAR: 8% of the training set (4,000 images), stratified; ImageNet: 120 random
 * classes x 50 images. All randomness comes from the seeded Rng.
 */
import type { ImageSet } from './types';
import { subsetImageSet } from './imageset';
import { Rng } from '../util/rng';

export type ProxySpec =
  /** A fraction of the set, e.g. 0.08; stratified (default) keeps class proportions. */
  | { kind: 'fraction'; fraction: number; stratified?: boolean }
  /** An absolute number of images, e.g. 4000. */
  | { kind: 'count'; count: number; stratified?: boolean }
  /** `classes` random classes x `perClass` random images of each; labels become 0..classes-1. */
  | { kind: 'classes'; classes: number; perClass: number };

export interface ProxySplit {
  /** The half that updates the model weights. */
  model: ImageSet;
  /** The half that updates the policy. */
  policy: ImageSet;
  /** Indices into the source set of each half. */
  modelIndices: Int32Array;
  policyIndices: Int32Array;
  /** For `classes`: the source class of each new label; otherwise the identity. */
  classes: number[];
  numClasses: number;
  description: string;
}

function classMembers(set: ImageSet, numClasses: number): Int32Array[] {
  const counts = new Int32Array(numClasses);
  for (const label of set.labels) counts[label]!++;
  const members = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(numClasses);
  for (let i = 0; i < set.count; i++) {
    const label = set.labels[i]!;
    members[label]![fill[label]!++] = i;
  }
  return members;
}

/** Splits chosen per-class index lists into two halves, each stratified, sizes differing by at most 1. */
function halve(perClass: readonly ArrayLike<number>[]): [number[], number[]] {
  const a: number[] = [];
  const b: number[] = [];
  for (const indices of perClass) {
    // Alternate per image, starting each class with the shorter half, so odd classes balance out.
    const first = a.length <= b.length ? a : b;
    const second = first === a ? b : a;
    for (let i = 0; i < indices.length; i++) (i % 2 === 0 ? first : second).push(indices[i]!);
  }
  return [a, b];
}

/** Largest-remainder allocation of `total` over classes in proportion to their sizes. */
function proportionalCounts(sizes: readonly number[], total: number): number[] {
  const sum = sizes.reduce((x, y) => x + y, 0);
  const exact = sizes.map((s) => (s * total) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((x, y) => x + y, 0);
  const byRemainder = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
  for (const [, i] of byRemainder) {
    if (left === 0) break;
    counts[i]!++;
    left--;
  }
  return counts;
}

function requireInteger(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${value}`);
}

/**
 * Samples a proxy split of `set`. `numClasses` defaults to 1 + the largest label.
 * Impossible sizes (fraction outside (0, 1], more images or classes than exist, more
 * images per class than a class has) throw a RangeError saying what is available.
 */
export function sampleProxy(set: ImageSet, spec: ProxySpec, seed: number | Rng = 0, numClasses?: number): ProxySplit {
  const rng = typeof seed === 'number' ? new Rng(seed) : seed;
  const classCount = numClasses ?? set.labels.reduce((m, l) => Math.max(m, l + 1), 0);
  const members = classMembers(set, classCount);
  let chosen: Int32Array[];
  let classes = Array.from({ length: classCount }, (_, i) => i);
  let description: string;
  if (spec.kind === 'classes') {
    requireInteger(spec.classes, 'proxy classes', 1);
    requireInteger(spec.perClass, 'proxy images per class', 2);
    const present = classes.filter((c) => members[c]!.length > 0);
    if (spec.classes > present.length) {
      throw new RangeError(`proxy asks for ${spec.classes} classes but the set has only ${present.length} classes with images`);
    }
    const order = rng.permutation(present.length);
    classes = Array.from(order.subarray(0, spec.classes), (i) => present[i]!).sort((x, y) => x - y);
    chosen = classes.map((c) => {
      const pool = members[c]!;
      if (spec.perClass > pool.length) {
        throw new RangeError(`proxy asks for ${spec.perClass} images per class but class ${c} has only ${pool.length}`);
      }
      const pick = rng.permutation(pool.length).subarray(0, spec.perClass);
      return Int32Array.from(pick, (i) => pool[i]!);
    });
    description = `${spec.classes} random classes x ${spec.perClass} images`;
  } else {
    let total: number;
    if (spec.kind === 'fraction') {
      if (!(spec.fraction > 0 && spec.fraction <= 1)) {
        throw new RangeError(`proxy fraction must be in (0, 1], got ${spec.fraction}`);
      }
      total = Math.round(spec.fraction * set.count);
    } else {
      requireInteger(spec.count, 'proxy count', 2);
      if (spec.count > set.count) throw new RangeError(`proxy asks for ${spec.count} images but the set has only ${set.count}`);
      total = spec.count;
    }
    if (total < 2) throw new RangeError(`proxy of ${total} image(s) from ${set.count} cannot be split into two non-empty halves`);
    const stratified = spec.stratified ?? true;
    if (stratified) {
      const counts = proportionalCounts(members.map((m) => m.length), total);
      chosen = members.map((pool, c) => {
        const pick = rng.permutation(pool.length).subarray(0, counts[c]!);
        return Int32Array.from(pick, (i) => pool[i]!);
      });
    } else {
      const pick = rng.permutation(set.count).subarray(0, total);
      chosen = [Int32Array.from(pick)];
    }
    const what = spec.kind === 'fraction' ? `${+(spec.fraction * 100).toFixed(4)}%` : `${total} images`;
    description = `${stratified ? 'stratified' : 'random'} ${what} (${total} of ${set.count})`;
  }
  const [modelList, policyList] = halve(chosen);
  const modelIndices = Int32Array.from(modelList);
  const policyIndices = Int32Array.from(policyList);
  let model = subsetImageSet(set, modelIndices);
  let policy = subsetImageSet(set, policyIndices);
  if (spec.kind === 'classes') {
    const newLabel = new Map(classes.map((c, i) => [c, i]));
    model = { ...model, labels: model.labels.map((l) => newLabel.get(l)!) };
    policy = { ...policy, labels: policy.labels.map((l) => newLabel.get(l)!) };
  }
  return {
    model,
    policy,
    modelIndices,
    policyIndices,
    classes,
    numClasses: classes.length,
    description: `${description}, halves of ${model.count} (model) and ${policy.count} (policy)`,
  };
}

/** Parses `8%`, `0.08`, `4000`, `120x50` (classes x images per class). */
export function parseProxySpec(text: string): ProxySpec {
  const t = text.trim();
  let m: RegExpMatchArray | null;
  if ((m = t.match(/^(\d+)\s*x\s*(\d+)$/i))) return { kind: 'classes', classes: Number(m[1]), perClass: Number(m[2]) };
  if ((m = t.match(/^(\d+(?:\.\d+)?)%$/))) return { kind: 'fraction', fraction: Number(m[1]) / 100 };
  if (/^0?\.\d+$|^1(\.0*)?$/.test(t)) return { kind: 'fraction', fraction: Number(t) };
  if (/^\d+$/.test(t)) return { kind: 'count', count: Number(t) };
  throw new RangeError(`cannot read proxy size '${text}'; expected a percentage (8%), a fraction (0.08), a count (4000) or classes x images (120x50)`);
}
