/**
 * Per-layer operator probabilities: a heatmap (layers x operators) with a step slider
 * over the recorded snapshots, and trajectories of each probability over the steps with
 * a layer selector. Both interact client-side (plotly frames and menus).
 */
import type { SnapshotRecord } from '../src/search/record';
import { DIVERGING, categoryColour, checkSnapshots, frameName, groupMenu, layerLabel, round, stepSlider, withDefaults } from './common';
import type { Figure, Frame, HeatmapTrace, ScatterTrace } from './types';

export interface ProbabilityHeatmapOptions {
  /** Figure title. */
  title: string;
  /** Height in pixels; undefined sizes it from the layer count. */
  height: number | undefined;
  /** Width in pixels; undefined lets the chart fill its container. */
  width: number | undefined;
  /**
   * How far from uniform (1/K) the colour scale reaches, as a probability difference;
   * undefined uses the largest departure over all snapshots.
   */
  spread: number | undefined;
  /** Which snapshot the figure opens on; -1 is the last. */
  initialSnapshot: number;
}

export const PROBABILITY_HEATMAP_DEFAULTS: ProbabilityHeatmapOptions = {
  title: 'Operator probabilities per layer',
  height: undefined,
  width: undefined,
  spread: undefined,
  initialSnapshot: -1,
};

function resolveIndex(index: number, length: number, what: string): number {
  const resolved = index < 0 ? length + index : index;
  if (!Number.isInteger(resolved) || resolved < 0 || resolved >= length) {
    throw new Error(`${what}: snapshot index ${index} is outside the ${length} recorded snapshots`);
  }
  return resolved;
}

export function probabilityHeatmap(snapshots: readonly SnapshotRecord[], options?: Partial<ProbabilityHeatmapOptions>): Figure {
  const o = withDefaults(PROBABILITY_HEATMAP_DEFAULTS, options);
  const { ops, layers } = checkSnapshots(snapshots, 'probabilityHeatmap');
  const initial = resolveIndex(o.initialSnapshot, snapshots.length, 'probabilityHeatmap');
  const y = Array.from({ length: layers }, (_, d) => layerLabel(d));
  // A diverging scale centred on uniform: white is 1/K, red more likely, blue less; a
  // scale from 0 would make every departure from 1/16 the same colour.
  const uniform = 1 / ops.length;
  const spread = o.spread ?? Math.max(1e-4, ...snapshots.flatMap((s) => s.policy.layers.flatMap((l) => l.probabilities.map((p) => Math.abs(p - uniform)))));
  const zOf = (s: SnapshotRecord) => s.policy.layers.map((l) => l.probabilities.map(round));
  const ratioOf = (s: SnapshotRecord) => s.policy.layers.map((l) => l.probabilities.map((p) => round(p / uniform)));
  const titleAt = (s: SnapshotRecord) => `${o.title} at step ${s.step}`;
  const zmin = round(uniform - spread);
  const zmax = round(uniform + spread);
  const base: HeatmapTrace = {
    type: 'heatmap',
    name: 'probability',
    z: zOf(snapshots[initial]!),
    customdata: ratioOf(snapshots[initial]!),
    x: ops,
    y,
    colorscale: DIVERGING,
    zmin,
    zmax,
    hovertemplate: '%{y}, %{x}<br>p = %{z:.4f} (%{customdata:.2f}× uniform)<extra></extra>',
    // The scale may reach below 0 to keep white at 1/K; its ticks stay at probabilities that can occur.
    colorbar: { title: { text: `p (white: 1/${ops.length})` }, tickvals: [Math.max(0, zmin), round(uniform), zmax], ticktext: [Math.max(0, zmin).toFixed(3), `${round(uniform)}`, zmax.toFixed(3)] },
  };
  const figure: Figure = {
    data: [base],
    layout: {
      title: { text: titleAt(snapshots[initial]!), x: 0.02 },
      height: o.height ?? 160 + 34 * layers + (snapshots.length > 1 ? 120 : 0),
      margin: { l: 70, r: 100, t: 50, b: 90 },
      xaxis: { type: 'category', tickangle: -45 },
      yaxis: { type: 'category', autorange: 'reversed' },
    },
    config: { responsive: true, displaylogo: false },
  };
  if (o.width !== undefined) figure.layout.width = o.width;
  if (snapshots.length > 1) {
    // Each frame brings its own title, so the title follows the slider.
    figure.frames = snapshots.map((s): Frame => ({ name: frameName(s.step), data: [{ z: zOf(s), customdata: ratioOf(s) }], traces: [0], layout: { title: { text: titleAt(s), x: 0.02 } } }));
    figure.layout.sliders = [stepSlider(snapshots.map((s) => s.step), initial, 'step ', 100)];
  }
  return figure;
}

export interface ProbabilityTrajectoryOptions {
  /** Figure title. */
  title: string;
  /** Height in pixels. */
  height: number;
  /** Width in pixels; undefined lets the chart fill its container. */
  width: number | undefined;
  /** The layer shown first (0-based). */
  initialLayer: number;
}

export const PROBABILITY_TRAJECTORY_DEFAULTS: ProbabilityTrajectoryOptions = {
  title: 'Operator probabilities over the search',
  height: 460,
  width: undefined,
  initialLayer: 0,
};

/** One line per operator over the snapshot steps; a drop-down picks the layer. */
export function probabilityTrajectories(snapshots: readonly SnapshotRecord[], options?: Partial<ProbabilityTrajectoryOptions>): Figure {
  const o = withDefaults(PROBABILITY_TRAJECTORY_DEFAULTS, options);
  const { ops, layers } = checkSnapshots(snapshots, 'probabilityTrajectories');
  if (!Number.isInteger(o.initialLayer) || o.initialLayer < 0 || o.initialLayer >= layers) {
    throw new Error(`probabilityTrajectories: initialLayer ${o.initialLayer} is outside the policy's ${layers} layers`);
  }
  const x = snapshots.map((s) => s.step);
  const traces: ScatterTrace[] = [];
  const groupOf: number[] = [];
  for (let d = 0; d < layers; d++) {
    ops.forEach((op, k) => {
      traces.push({
        type: 'scatter',
        name: op,
        x,
        y: snapshots.map((s) => round(s.policy.layers[d]!.probabilities[k]!)),
        mode: snapshots.length > 1 ? 'lines' : 'markers',
        line: { color: categoryColour(k), width: 2 },
        marker: { color: categoryColour(k), size: 6 },
        legendgroup: op,
        visible: d === o.initialLayer,
        hovertemplate: `${layerLabel(d)}, ${op}<br>step %{x}: p = %{y:.4f}<extra></extra>`,
      });
      groupOf.push(d);
    });
  }
  const layerLabels = Array.from({ length: layers }, (_, d) => layerLabel(d));
  const figure: Figure = {
    data: traces,
    layout: {
      title: { text: o.title, x: 0.12 },
      height: o.height,
      margin: { l: 60, r: 20, t: 70, b: 50 },
      hovermode: 'closest',
      showlegend: true,
      // Beside the chart in two short columns' worth of room, not a scrolling list below it.
      legend: { orientation: 'v', x: 1.02, y: 1, font: { size: 10 } },
      xaxis: { title: { text: 'step' } },
      // Fitted to the data (probabilities move in a narrow band around 1/K), not from 0.
      yaxis: { title: { text: 'probability' }, range: paddedRange(traces.flatMap((t) => t.y.filter((v): v is number => v !== null))) },
      updatemenus: layers > 1 ? [groupMenu(layerLabels, groupOf, o.initialLayer)] : [],
    },
    config: { responsive: true, displaylogo: false },
  };
  if (o.width !== undefined) figure.layout.width = o.width;
  return figure;
}

/** [low, high] around the values with 8% padding (and a floor on the width for flat data). */
function paddedRange(values: readonly number[]): [number, number] {
  const low = Math.min(...values);
  const high = Math.max(...values);
  const pad = Math.max((high - low) * 0.08, 1e-4);
  return [round(Math.max(0, low - pad)), round(Math.min(1, high + pad))];
}
