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

  it('colours probability relative to uniform: white is 1/K, the scale symmetric around it, the ratio on hover', async () => {
    const { colourAt } = await import('../../widgets');
    const figure = probabilityHeatmap(snapshots);
    const heat = figure.data[0] as HeatmapTrace;
    const uniform = 1 / 16;
    assert.ok(Math.abs((heat.zmin + heat.zmax) / 2 - uniform) < 1e-5, 'centred on 1/K');
    assert.equal(colourAt(heat.colorscale, (uniform - heat.zmin) / (heat.zmax - heat.zmin)).toLowerCase(), '#f7f7f7');
    const all = snapshots.flatMap((s) => s.policy.layers.flatMap((l) => l.probabilities));
    assert.ok(all.every((p) => p >= heat.zmin - 1e-6 && p <= heat.zmax + 1e-6), 'every snapshot within the scale');
    assert.ok(heat.zmax - heat.zmin < 0.5, 'the scale spans the departures, not 0..max');
    assert.ok(Math.abs(heat.customdata![0]![0]! - heat.z[0]![0]! / uniform) < 1e-4);
    assert.match(heat.hovertemplate!, /× uniform/);
  });

  it('each frame brings its step into the title, so the title follows the slider', () => {
    const figure = probabilityHeatmap(snapshots);
    assert.deepEqual(figure.frames!.map((f) => f.layout?.title?.text), [5, 10, 15, 20].map((s) => `Operator probabilities per layer at step ${s}`));
    assert.equal(figure.layout.title!.text, 'Operator probabilities per layer at step 20');
  });

  it('draws a colour bar in the static SVG', () => {
    const svg = figureToSvg(probabilityHeatmap(snapshots));
    assert.match(svg, /p \(white: 1\/16\)/);
    assert.ok((svg.match(/<rect x="[\d.]+" y="[\d.]+" width="12" height/g) ?? []).length >= 24, 'the bar is drawn');
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

  it('draws only the visible layer in the static SVG, and says which', () => {
    const svg = figureToSvg(probabilityTrajectories(snapshots));
    assert.equal((svg.match(/<polyline/g) ?? []).length, 16);
    assert.match(svg, /showing layer 1 \(3 in the interactive chart's menu\)/);
  });

  it('fits the y-axis to the probabilities (a narrow band around 1/K), not from 0', () => {
    const figure = probabilityTrajectories(snapshots);
    const values = (figure.data as ScatterTrace[]).flatMap((t) => t.y as number[]);
    const [low, high] = figure.layout.yaxis!.range as [number, number];
    assert.ok(low >= 0 && low <= Math.min(...values) && high >= Math.max(...values));
    assert.ok(low > 0 || Math.min(...values) < 0.01, "starts at 0 only when a probability is near 0");
    assert.ok(high - low < 2 * (Math.max(...values) - Math.min(...values)) + 1e-3);
    assert.equal(figure.layout.legend!.orientation, 'v');
  });
});
