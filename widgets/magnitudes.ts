/**
 * Magnitude distributions: mu ± sigma of each operator's magnitude in one layer, the
 * marker coloured by the operator's probability. A drop-down picks the layer and a
 * slider the recorded step, both client-side.
 */
import type { SnapshotRecord } from '../src/search/record';
import { VIRIDIS, checkSnapshots, frameName, groupMenu, layerLabel, round, stepSlider, withDefaults } from './common';
import type { Figure, Frame, ScatterTrace } from './types';

export interface MagnitudeDistributionOptions {
  /** Figure title. */
  title: string;
  /** Height in pixels. */
  height: number;
  /** Width in pixels; undefined lets the chart fill its container. */
  width: number | undefined;
  /** The layer shown first (0-based). */
  initialLayer: number;
  /** Which snapshot the figure opens on; -1 is the last. */
  initialSnapshot: number;
}

export const MAGNITUDE_DISTRIBUTION_DEFAULTS: MagnitudeDistributionOptions = {
  title: 'Magnitude μ ± σ per operator',
  height: 480,
  width: undefined,
  initialLayer: 0,
  initialSnapshot: -1,
};

export function magnitudeDistributions(snapshots: readonly SnapshotRecord[], options?: Partial<MagnitudeDistributionOptions>): Figure {
  const o = withDefaults(MAGNITUDE_DISTRIBUTION_DEFAULTS, options);
  const { ops, layers } = checkSnapshots(snapshots, 'magnitudeDistributions');
  if (!Number.isInteger(o.initialLayer) || o.initialLayer < 0 || o.initialLayer >= layers) {
    throw new Error(`magnitudeDistributions: initialLayer ${o.initialLayer} is outside the policy's ${layers} layers`);
  }
  const initial = o.initialSnapshot < 0 ? snapshots.length + o.initialSnapshot : o.initialSnapshot;
  if (!Number.isInteger(initial) || initial < 0 || initial >= snapshots.length) {
    throw new Error(`magnitudeDistributions: snapshot index ${o.initialSnapshot} is outside the ${snapshots.length} recorded snapshots`);
  }
  const pmax = Math.max(...snapshots.flatMap((s) => s.policy.layers.flatMap((l) => l.probabilities)));
  const layerData = (s: SnapshotRecord, d: number) => {
    const layer = s.policy.layers[d]!;
    return {
      y: layer.mu.map(round),
      error_y: { type: 'data' as const, array: layer.sigma.map(round), visible: true, color: '#555', thickness: 1.5, width: 6 },
      marker: { color: layer.probabilities.map(round), size: 11, colorscale: VIRIDIS, cmin: 0, cmax: round(pmax), showscale: true, colorbar: { title: { text: 'p' }, len: 0.8 } },
      customdata: layer.probabilities.map((p, k) => [round(p), round(layer.sigma[k]!)]),
    };
  };
  const traces: ScatterTrace[] = Array.from({ length: layers }, (_, d) => ({
    type: 'scatter',
    name: layerLabel(d),
    x: ops,
    mode: 'markers',
    visible: d === o.initialLayer,
    showlegend: false,
    hovertemplate: `${layerLabel(d)}, %{x}<br>μ = %{y:.3f}, σ = %{customdata[1]:.3f}<br>p = %{customdata[0]:.4f}<extra></extra>`,
    ...layerData(snapshots[initial]!, d),
  }));
  const top = Math.max(1, ...snapshots.flatMap((s) => s.policy.layers.flatMap((l) => l.mu.map((m, k) => m + l.sigma[k]!))));
  const bottom = Math.min(0, ...snapshots.flatMap((s) => s.policy.layers.flatMap((l) => l.mu.map((m, k) => m - l.sigma[k]!))));
  const figure: Figure = {
    data: traces,
    layout: {
      title: { text: o.title, x: 0.2 },
      height: o.height + (snapshots.length > 1 ? 120 : 0),
      margin: { l: 60, r: 20, t: 70, b: 90 },
      hovermode: 'closest',
      xaxis: { type: 'category', tickangle: -45 },
      yaxis: { title: { text: 'magnitude' }, range: [round(bottom - 0.05), round(top + 0.05)] },
      updatemenus: layers > 1 ? [groupMenu(traces.map((t) => t.name ?? ''), traces.map((_, d) => d), o.initialLayer)] : [],
    },
    config: { responsive: true, displaylogo: false },
  };
  if (o.width !== undefined) figure.layout.width = o.width;
  if (snapshots.length > 1) {
    const indices = traces.map((_, d) => d);
    figure.frames = snapshots.map((s): Frame => ({ name: frameName(s.step), data: indices.map((d) => layerData(s, d)), traces: indices }));
    figure.layout.sliders = [stepSlider(snapshots.map((s) => s.step), initial, 'step ', 100)];
  }
  return figure;
}
