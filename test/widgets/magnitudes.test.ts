import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { figureToSvg, magnitudeDistributions, type ScatterTrace } from '../../widgets';
import { syntheticSnapshots } from './fixtures';
import { matchJsonSnapshot, matchSnapshot } from './snapshot';

describe('magnitudeDistributions', () => {
  const snapshots = syntheticSnapshots(3, 2);

  it('matches its snapshot (spec and static SVG)', () => {
    const figure = magnitudeDistributions(snapshots);
    matchJsonSnapshot('magnitude-distributions', figure);
    matchSnapshot('magnitude-distributions.svg', figureToSvg(figure));
  });

  it('plots mu with sigma error bars coloured by probability, per layer and per step', () => {
    const figure = magnitudeDistributions(snapshots);
    const [first, second] = figure.data as ScatterTrace[];
    const layer = snapshots[2]!.policy.layers[1]!;
    assert.equal(first!.visible, true);
    assert.equal(second!.visible, false);
    second!.y.forEach((m, k) => assert.ok(Math.abs(m! - layer.mu[k]!) < 1e-6));
    second!.error_y!.array.forEach((s, k) => assert.ok(Math.abs(s - layer.sigma[k]!) < 1e-6));
    (second!.marker!.color as number[]).forEach((p, k) => assert.ok(Math.abs(p - layer.probabilities[k]!) < 1e-6));
    assert.equal(figure.frames!.length, 3);
    assert.deepEqual(figure.frames![0]!.traces, [0, 1]);
    const frameMu = figure.frames![0]!.data[1] as Partial<ScatterTrace>;
    assert.ok(Math.abs(frameMu.y![3]! - snapshots[0]!.policy.layers[1]!.mu[3]!) < 1e-6);
    assert.deepEqual(figure.layout.updatemenus![0]!.buttons.map((b) => b.label), ['layer 1', 'layer 2']);
  });

  it('draws 16 markers and 16 error bars for the visible layer in the static SVG', () => {
    const svg = figureToSvg(magnitudeDistributions(snapshots));
    assert.equal((svg.match(/<circle/g) ?? []).length, 16);
    assert.equal((svg.match(/<path d="M/g) ?? []).length, 16);
  });

  it('names a bad layer or snapshot index', () => {
    assert.throws(() => magnitudeDistributions(snapshots, { initialLayer: -1 }), /initialLayer -1 is outside the policy's 2 layers/);
    assert.throws(() => magnitudeDistributions(snapshots, { initialSnapshot: 3 }), /snapshot index 3 is outside the 3 recorded snapshots/);
  });
});
