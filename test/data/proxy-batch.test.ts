import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BatchSampler, generateSynthetic, parseProxySpec, sampleProxy, toTensors, type ImageSet } from '../../src/data';

/** A set whose image i has all pixels equal to i % 256 and label labelOf(i). */
function tinySet(count: number, labelOf: (i: number) => number): ImageSet {
  const images = new Uint8Array(count * 2 * 2 * 3);
  for (let i = 0; i < count; i++) images.fill(i % 256, i * 12, (i + 1) * 12);
  return { images, labels: Int32Array.from({ length: count }, (_, i) => labelOf(i)), count, height: 2, width: 2, channels: 3 };
}

function histogram(labels: Int32Array, k: number): number[] {
  const h = new Array<number>(k).fill(0);
  for (const l of labels) h[l]!++;
  return h;
}

test('proxy: the paper CIFAR setting, 8% stratified of 50,000 = 4,000 in two equal stratified halves', () => {
  const set = tinySet(50000, (i) => i % 10);
  const split = sampleProxy(set, { kind: 'fraction', fraction: 0.08 }, 1);
  assert.equal(split.model.count, 2000);
  assert.equal(split.policy.count, 2000);
  assert.deepEqual(histogram(split.model.labels, 10), new Array(10).fill(200));
  assert.deepEqual(histogram(split.policy.labels, 10), new Array(10).fill(200));
  const all = new Set([...split.modelIndices, ...split.policyIndices]);
  assert.equal(all.size, 4000, 'the halves are disjoint');
  // The subset carries the chosen images: pixel value = source index % 256.
  split.modelIndices.forEach((src, i) => assert.equal(split.model.images[i * 12], src % 256));
  const again = sampleProxy(set, { kind: 'fraction', fraction: 0.08 }, 1);
  assert.deepEqual(again.modelIndices, split.modelIndices);
  assert.notDeepEqual(sampleProxy(set, { kind: 'fraction', fraction: 0.08 }, 2).modelIndices, split.modelIndices);
});

test('proxy: stratified keeps the proportions of unbalanced classes; random does not need classes', () => {
  const set = tinySet(1000, (i) => (i < 700 ? 0 : i < 900 ? 1 : 2));
  const split = sampleProxy(set, { kind: 'count', count: 100 }, 3);
  assert.deepEqual(histogram(Int32Array.from([...split.model.labels, ...split.policy.labels]), 3), [70, 20, 10]);
  const random = sampleProxy(set, { kind: 'fraction', fraction: 0.1, stratified: false }, 3);
  assert.equal(random.model.count + random.policy.count, 100);
});

test('proxy: C random classes x K images, relabelled 0..C-1 (the paper ImageNet setting in small)', () => {
  const set = tinySet(20 * 30, (i) => i % 20);
  const split = sampleProxy(set, { kind: 'classes', classes: 6, perClass: 10 }, 9);
  assert.equal(split.classes.length, 6);
  assert.equal(split.numClasses, 6);
  assert.deepEqual(histogram(split.model.labels, 6), new Array(6).fill(5));
  assert.deepEqual(histogram(split.policy.labels, 6), new Array(6).fill(5));
  split.modelIndices.forEach((src, i) => assert.equal(split.classes[split.model.labels[i]!], set.labels[src]));
  assert.deepEqual(parseProxySpec('120x50'), { kind: 'classes', classes: 120, perClass: 50 });
  assert.deepEqual(parseProxySpec('8%'), { kind: 'fraction', fraction: 0.08 });
  assert.deepEqual(parseProxySpec('0.08'), { kind: 'fraction', fraction: 0.08 });
  assert.deepEqual(parseProxySpec('4000'), { kind: 'count', count: 4000 });
});

test('batch sampler: each epoch is a permutation; a saved state resumes the exact same batches', () => {
  const sampler = new BatchSampler(10, { batchSize: 4, seed: 5, dropLast: false });
  const epoch0 = [sampler.next(), sampler.next(), sampler.next()];
  assert.deepEqual(epoch0.map((b) => b.length), [4, 4, 2]);
  assert.deepEqual([...epoch0.flatMap((b) => [...b])].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  sampler.next();
  const saved = JSON.parse(JSON.stringify(sampler.state()));
  const rest = Array.from({ length: 7 }, () => Array.from(sampler.next()));
  const resumed = BatchSampler.fromState(saved);
  assert.deepEqual(Array.from({ length: 7 }, () => Array.from(resumed.next())), rest);
  assert.equal(resumed.epoch, sampler.epoch);
  assert.ok(sampler.epoch >= 2);
  const dropping = new BatchSampler(10, { batchSize: 4, seed: 5 });
  assert.equal(dropping.batchesPerEpoch, 2);
  for (let i = 0; i < 6; i++) assert.equal(dropping.next().length, 4);
  assert.equal(dropping.epoch, 2);
});

test('toTensors: float32 NHWC in [0, 255] and int32 labels of the chosen images, no leaked tensors', () => {
  const data = generateSynthetic('colour', { seed: 1, trainCount: 12, testCount: 0 });
  const before = tf.memory().numTensors;
  const { images, labels } = toTensors(data.train, [3, 0, 7]);
  assert.deepEqual(images.shape, [3, 32, 32, 3]);
  assert.equal(images.dtype, 'float32');
  assert.equal(labels.dtype, 'int32');
  assert.deepEqual(Array.from(labels.dataSync()), [data.train.labels[3], data.train.labels[0], data.train.labels[7]]);
  const values = images.dataSync();
  const per = 32 * 32 * 3;
  for (let p = 0; p < per; p++) assert.equal(values[2 * per + p], data.train.images[7 * per + p]);
  images.dispose();
  labels.dispose();
  assert.equal(tf.memory().numTensors, before);
});
