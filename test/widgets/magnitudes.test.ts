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

  // The 13 operators that take a magnitude, as indices into the policy's 16.
  const withMagnitude = snapshots[0]!.policy.ops.flatMap((op, k) => (['Equalize', 'AutoContrast', 'Invert'].includes(op) ? [] : [k]));

  it('plots mu with the mu ± sigma band clipped to [0, 1], coloured by probability, per layer and per step', () => {
    const figure = magnitudeDistributions(snapshots);
    const [first, second] = figure.data as ScatterTrace[];
    const layer = snapshots[2]!.policy.layers[1]!;
    assert.equal(first!.visible, true);
    assert.equal(second!.visible, false);
    assert.equal(withMagnitude.length, 13);
    assert.deepEqual(second!.x, withMagnitude.map((k) => snapshots[0]!.policy.ops[k]));
    withMagnitude.forEach((k, i) => {
      const mu = layer.mu[k]!;
      const sigma = layer.sigma[k]!;
      assert.ok(Math.abs(second!.y[i]! - mu) < 1e-6);
      assert.ok(Math.abs(mu + second!.error_y!.array[i]! - Math.min(1, mu + sigma)) < 1e-6, `top of ${second!.x[i]}'s band`);
      assert.ok(Math.abs(mu - second!.error_y!.arrayminus![i]! - Math.max(0, mu - sigma)) < 1e-6, `bottom of ${second!.x[i]}'s band`);
      assert.ok(Math.abs((second!.marker!.color as number[])[i]! - layer.probabilities[k]!) < 1e-6);
    });
    assert.equal(figure.frames!.length, 3);
    assert.deepEqual(figure.frames![0]!.traces, [0, 1]);
    const frameMu = figure.frames![0]!.data[1] as Partial<ScatterTrace>;
    assert.ok(Math.abs(frameMu.y![3]! - snapshots[0]!.policy.layers[1]!.mu[withMagnitude[3]!]!) < 1e-6);
    assert.deepEqual(figure.layout.updatemenus![0]!.buttons.map((b) => b.label), ['layer 1', 'layer 2']);
  });

  it('clips a band that reaches past 0 or 1, and draws 13 markers and 13 error bars in the static SVG', () => {
    const wide = structuredClone(snapshots);
    const layer = wide[2]!.policy.layers[0]!;
    layer.mu[0] = 0.9; // ShearX: the band would end at 1.3
    layer.sigma[0] = 0.4;
    layer.mu[1] = 0.1; // ShearY: the band would start at -0.2
    layer.sigma[1] = 0.3;
    const figure = magnitudeDistributions(wide);
    const trace = figure.data[0] as ScatterTrace;
    assert.ok(Math.abs(trace.error_y!.array[0]! - 0.1) < 1e-6 && Math.abs(trace.error_y!.arrayminus![0]! - 0.4) < 1e-6);
    assert.ok(Math.abs(trace.error_y!.array[1]! - 0.3) < 1e-6 && Math.abs(trace.error_y!.arrayminus![1]! - 0.1) < 1e-6);
    const svg = figureToSvg(figure);
    assert.equal((svg.match(/<circle/g) ?? []).length, 13);
    assert.equal((svg.match(/<path d="M/g) ?? []).length, 13);
  });

  it('names a bad layer or snapshot index', () => {
    assert.throws(() => magnitudeDistributions(snapshots, { initialLayer: -1 }), /initialLayer -1 is outside the policy's 2 layers/);
    assert.throws(() => magnitudeDistributions(snapshots, { initialSnapshot: 3 }), /snapshot index 3 is outside the 3 recorded snapshots/);
  });
});
