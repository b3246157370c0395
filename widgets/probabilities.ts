/**
 * Per-layer operator probabilities: a heatmap (layers x operators) with a step slider
 * over the recorded snapshots, and trajectories of each probability over the steps with
 * a layer selector. Both interact client-side (plotly frames and menus).
 */
import type { SnapshotRecord } from '../src/search/record';
import { VIRIDIS, categoryColour, checkSnapshots, frameName, groupMenu, layerLabel, round, stepSlider, withDefaults } from './common';
import type { Figure, Frame, HeatmapTrace, ScatterTrace } from './types';

export interface ProbabilityHeatmapOptions {
  /** Figure title. */
  title: string;
  /** Height in pixels; undefined sizes it from the layer count. */
  height: number | undefined;
  /** Width in pixels; undefined lets the chart fill its container. */
  width: number | undefined;
  /** Colour scale maximum; undefined uses the largest probability over all snapshots. */
  zmax: number | undefined;
  /** Which snapshot the figure opens on; -1 is the last. */
  initialSnapshot: number;
}

export const PROBABILITY_HEATMAP_DEFAULTS: ProbabilityHeatmapOptions = {
  title: 'Operator probabilities per layer',
  height: undefined,
  width: undefined,
  zmax: undefined,
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
  const zOf = (s: SnapshotRecord) => s.policy.layers.map((l) => l.probabilities.map(round));
  const zmax = o.zmax ?? round(Math.max(...snapshots.flatMap((s) => s.policy.layers.flatMap((l) => l.probabilities))));
  const base: HeatmapTrace = {
    type: 'heatmap',
    name: 'probability',
    z: zOf(snapshots[initial]!),
    x: ops,
    y,
    colorscale: VIRIDIS,
    zmin: 0,
    zmax,
    hovertemplate: '%{y}, %{x}<br>p = %{z:.4f}<extra></extra>',
    colorbar: { title: { text: 'p' } },
  };
  const figure: Figure = {
    data: [base],
    layout: {
      title: { text: `${o.title} (step ${snapshots[initial]!.step})`, x: 0.02 },
      height: o.height ?? 160 + 34 * layers + (snapshots.length > 1 ? 120 : 0),
      margin: { l: 70, r: 20, t: 50, b: 90 },
      xaxis: { type: 'category', tickangle: -45 },
      yaxis: { type: 'category', autorange: 'reversed' },
    },
    config: { responsive: true, displaylogo: false },
  };
  if (o.width !== undefined) figure.layout.width = o.width;
  if (snapshots.length > 1) {
    figure.frames = snapshots.map((s): Frame => ({ name: frameName(s.step), data: [{ z: zOf(s) }], traces: [0] }));
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
      xaxis: { title: { text: 'step' } },
      yaxis: { title: { text: 'probability' }, range: [0, round(Math.min(1, 1.05 * Math.max(...traces.flatMap((t) => t.y.map((v) => v ?? 0)))))] },
      updatemenus: layers > 1 ? [groupMenu(layerLabels, groupOf, o.initialLayer)] : [],
    },
    config: { responsive: true, displaylogo: false },
  };
  if (o.width !== undefined) figure.layout.width = o.width;
  return figure;
}
