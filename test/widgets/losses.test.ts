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
    const figure = lossCurves(steps, { smoothing: 0 });
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
    const figure = lossCurves(withGaps, { smoothing: 0 });
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
    assert.throws(() => lossCurves(steps, { smoothing: 1 }), /smoothing must be in \[0, 1\) or 'auto', got 1/);
  });

  it('smooths per-step losses from 30 steps on (raw curves faint beneath), not before', () => {
    const smooth = lossCurves(steps).data as ScatterTrace[];
    assert.equal(smooth.length, 12, 'a raw and a smoothed trace per series');
    assert.equal(smooth[0]!.opacity, 0.3);
    assert.match(smooth[1]!.hovertemplate!, /smoothed \(EMA 0.8\)/);
    assert.equal(lossCurves(steps.slice(0, 29)).data.length, 6);
  });

  it('gives the accuracies colours of their own, and keeps the legend clear of the step axis', () => {
    const traces = lossCurves(steps, { smoothing: 0 }).data as ScatterTrace[];
    const colour = (name: string) => traces.find((t) => t.name === name)!.line!.color;
    assert.notEqual(colour('train accuracy'), colour('train CE'));
    assert.notEqual(colour('val accuracy'), colour('val CE'));
    const legend = lossCurves(steps).layout.legend!;
    assert.ok(legend.y! > 1 && legend.yanchor === 'bottom', 'above the panels, not under the x-axis title');
  });

  it('computes an exponential moving average across gaps', () => {
    assert.deepEqual(exponentialMovingAverage([1, null, 3, 5], 0.5), [1, null, 2, 3.5]);
  });
});
