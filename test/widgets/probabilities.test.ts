import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { figureToSvg, probabilityHeatmap, probabilityTrajectories, type HeatmapTrace, type ScatterTrace } from '../../widgets';
import { syntheticSnapshots } from './fixtures';
import { matchJsonSnapshot, matchSnapshot } from './snapshot';

describe('probabilityHeatmap', () => {
  const snapshots = syntheticSnapshots(4, 2);

  it('matches its snapshot (spec and static SVG)', () => {
    const figure = probabilityHeatmap(snapshots);
    matchJsonSnapshot('probability-heatmap', figure);
    matchSnapshot('probability-heatmap.svg', figureToSvg(figure));
  });

  it('opens on the last snapshot and has one frame and slider step per snapshot', () => {
    const figure = probabilityHeatmap(snapshots);
    const heat = figure.data[0] as HeatmapTrace;
    const last = snapshots[3]!.policy;
    heat.z.forEach((row, d) => row.forEach((p, k) => assert.ok(Math.abs(p - last.layers[d]!.probabilities[k]!) < 1e-6)));
    assert.deepEqual(heat.x, last.ops);
    assert.deepEqual(heat.y, ['layer 1', 'layer 2']);
    assert.deepEqual(figure.frames!.map((f) => f.name), ['step 5', 'step 10', 'step 15', 'step 20']);
    const slider = figure.layout.sliders![0]!;
    assert.equal(slider.active, 3);
    assert.deepEqual(slider.steps.map((s) => s.args[0][0]), figure.frames!.map((f) => f.name));
    const firstFrameZ = (figure.frames![0]!.data[0] as Partial<HeatmapTrace>).z!;
    assert.ok(Math.abs(firstFrameZ[1]![4]! - snapshots[0]!.policy.layers[1]!.probabilities[4]!) < 1e-6);
    assert.match(heat.hovertemplate!, /%\{z/);
  });

  it('draws one rect per layer and operator in the static SVG', () => {
    const svg = figureToSvg(probabilityHeatmap(snapshots));
    assert.equal((svg.match(/<rect [^>]*><title>/g) ?? []).length, 2 * 16);
  });

  it('has no slider for a single snapshot', () => {
    const figure = probabilityHeatmap(snapshots.slice(0, 1));
    assert.equal(figure.frames, undefined);
    assert.equal(figure.layout.sliders, undefined);
  });

  it('names what is wrong with bad input', () => {
    assert.throws(() => probabilityHeatmap([]), /needs at least one policy snapshot/);
    assert.throws(() => probabilityHeatmap([snapshots[1]!, snapshots[0]!]), /increasing step order; step 5 follows step 10/);
    const short = structuredClone(snapshots[0]!);
    short.policy.layers[1]!.mu.pop();
    assert.throws(() => probabilityHeatmap([short]), /layer 2 has 15 mu for 16 operators/);
    const fewer = syntheticSnapshots(2, 1);
    assert.throws(() => probabilityHeatmap([snapshots[0]!, { ...fewer[1]!, step: 99 }]), /has 1 layers .* but the first has 2 layers/);
    assert.throws(() => probabilityHeatmap(snapshots, { initialSnapshot: 9 }), /snapshot index 9 is outside the 4 recorded snapshots/);
  });
});

describe('probabilityTrajectories', () => {
  const snapshots = syntheticSnapshots(5, 3);

  it('matches its snapshot (spec and static SVG)', () => {
    const figure = probabilityTrajectories(snapshots);
    matchJsonSnapshot('probability-trajectories', figure);
    matchSnapshot('probability-trajectories.svg', figureToSvg(figure));
  });

  it('has one line per layer and operator and a layer menu showing exactly that layer', () => {
    const figure = probabilityTrajectories(snapshots, { initialLayer: 1 });
    const traces = figure.data as ScatterTrace[];
    assert.equal(traces.length, 3 * 16);
    assert.deepEqual(traces.map((t) => t.visible).filter(Boolean).length, 16);
    assert.equal(traces[16]!.visible, true);
    const t = traces[16 + 4]!;
    assert.deepEqual(t.x, [5, 10, 15, 20, 25]);
    t.y.forEach((p, i) => assert.ok(Math.abs(p! - snapshots[i]!.policy.layers[1]!.probabilities[4]!) < 1e-6));
    const menu = figure.layout.updatemenus![0]!;
    assert.equal(menu.active, 1);
    const visible = (menu.buttons[2]!.args[0] as { visible: boolean[] }).visible;
    assert.deepEqual(visible.map((v, i) => (v ? i : -1)).filter((i) => i >= 0), Array.from({ length: 16 }, (_, k) => 32 + k));
    assert.throws(() => probabilityTrajectories(snapshots, { initialLayer: 3 }), /initialLayer 3 is outside the policy's 3 layers/);
  });

  it('draws only the visible layer in the static SVG', () => {
    assert.equal((figureToSvg(probabilityTrajectories(snapshots)).match(/<polyline/g) ?? []).length, 16);
  });
});
