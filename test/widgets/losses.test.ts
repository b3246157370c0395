import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exponentialMovingAverage, figureToSvg, lossCurves, type ScatterTrace } from '../../widgets';
import { syntheticSteps } from './fixtures';
import { matchJsonSnapshot, matchSnapshot } from './snapshot';

describe('lossCurves', () => {
  const steps = syntheticSteps(30);

  it('matches its snapshot (spec and static SVG)', () => {
    const figure = lossCurves(steps);
    matchJsonSnapshot('loss-curves', figure);
    matchSnapshot('loss-curves.svg', figureToSvg(figure));
  });

  it('draws one trace per series on three panels, values from the records', () => {
    const figure = lossCurves(steps);
    const traces = figure.data as ScatterTrace[];
    assert.deepEqual(traces.map((t) => t.name), ['train CE', 'val loss (CE + λ·KL)', 'val CE', 'KL(p_ori ‖ p_aug)', 'train accuracy', 'val accuracy']);
    assert.deepEqual(traces.map((t) => t.yaxis), ['y', 'y', 'y', 'y2', 'y3', 'y3']);
    const kl = traces[3]!;
    assert.deepEqual(kl.x, steps.map((r) => r.step));
    kl.y.forEach((v, i) => assert.ok(Math.abs(v! - steps[i]!.kl) <= 1e-5 * Math.abs(steps[i]!.kl)));
    assert.ok(traces.every((t) => t.hovertemplate?.includes('%{y')), 'every trace has hover values');
  });

  it('leaves rejected and non-finite steps as gaps and says how many were rejected', () => {
    const withGaps = steps.map((r, i) => (i === 3 ? { ...r, rejected: 'non-finite policy loss' } : i === 5 ? { ...r, trainLoss: Number.NaN } : r));
    const figure = lossCurves(withGaps);
    const train = figure.data[0] as ScatterTrace;
    assert.equal(train.y[3], null);
    assert.equal(train.y[5], null);
    assert.equal((figure.data[1] as ScatterTrace).y[5] !== null, true);
    assert.match(figure.layout.annotations![0]!.text, /1 rejected step /);
    assert.equal((figureToSvg(figure).match(/<polyline/g) ?? []).length >= 7, true, 'the broken train curve is drawn in pieces');
  });

  it('adds smoothed curves over the raw ones and drops the accuracy panel on request', () => {
    const figure = lossCurves(steps, { smoothing: 0.5, showAccuracy: false });
    assert.equal(figure.data.length, 8);
    assert.equal(figure.layout.yaxis3, undefined);
    const smoothed = figure.data[1] as ScatterTrace;
    assert.deepEqual(smoothed.y, exponentialMovingAverage(steps.map((r) => Number(r.trainLoss.toPrecision(6))), 0.5).map((v) => Number(v!.toPrecision(6))));
  });

  it('rejects a smoothing factor outside [0, 1)', () => {
    assert.throws(() => lossCurves(steps, { smoothing: 1 }), /smoothing must be in \[0, 1\), got 1/);
  });

  it('computes an exponential moving average across gaps', () => {
    assert.deepEqual(exponentialMovingAverage([1, null, 3, 5], 0.5), [1, null, 2, 3.5]);
  });
});
