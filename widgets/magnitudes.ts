/**
 * Magnitude distributions: for each operator that takes a magnitude, the mean mu and the
 * band mu ± sigma of the magnitude as it is applied, m = clip(mu + eps sigma, 0, scale),
 * so the band is clipped to [0, scale] too (an unclipped band would show magnitudes no
 * sample ever gets); scale is the policy's magnitude scale (1 unless set; the axis
 * extends to it). The marker is coloured by the operator's probability. Equalize,
 * AutoContrast and Invert are left out: their mu and sigma change nothing. A drop-down
 * picks the layer and a slider the recorded step, both client-side.
 */
import { takesMagnitude } from '../src/ops/names';
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
  title: 'Applied magnitude: μ and μ ± σ, clipped to [0, scale]',
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
  // Indices (into the policy's ops) of the operators that take a magnitude.
  const shown = ops.flatMap((name, k) => (takesMagnitude(name) ? [k] : []));
  const scale = Math.max(...snapshots.map((s) => s.policy.magnitudeScale ?? 1));
  const layerData = (s: SnapshotRecord, d: number) => {
    const layer = s.policy.layers[d]!;
    const top = s.policy.magnitudeScale ?? 1;
    const mu = shown.map((k) => layer.mu[k]!);
    const sigma = shown.map((k) => layer.sigma[k]!);
    const above = mu.map((m, i) => round(Math.min(top, m + sigma[i]!) - m));
    const below = mu.map((m, i) => round(m - Math.max(0, m - sigma[i]!)));
    return {
      y: mu.map(round),
      error_y: { type: 'data' as const, symmetric: false, array: above, arrayminus: below, visible: true, color: '#555', thickness: 1.5, width: 6 },
      marker: { color: shown.map((k) => round(layer.probabilities[k]!)), size: 11, colorscale: VIRIDIS, cmin: 0, cmax: round(pmax), showscale: true, colorbar: { title: { text: 'p' }, len: 0.8 } },
      customdata: shown.map((k) => [round(layer.probabilities[k]!), round(layer.sigma[k]!)]),
    };
  };
  const traces: ScatterTrace[] = Array.from({ length: layers }, (_, d) => ({
    type: 'scatter',
    name: layerLabel(d),
    x: shown.map((k) => ops[k]!),
    mode: 'markers',
    visible: d === o.initialLayer,
    showlegend: false,
    hovertemplate: `${layerLabel(d)}, %{x}<br>μ = %{y:.3f}, σ = %{customdata[1]:.3f}<br>p = %{customdata[0]:.4f}<extra></extra>`,
    ...layerData(snapshots[initial]!, d),
  }));
  const figure: Figure = {
    data: traces,
    layout: {
      title: { text: o.title, x: 0.2 },
      height: o.height + (snapshots.length > 1 ? 120 : 0),
      margin: { l: 60, r: 20, t: 70, b: 90 },
      hovermode: 'closest',
      xaxis: { type: 'category', tickangle: -45 },
      yaxis: { title: { text: scale === 1 ? 'magnitude' : `magnitude (scale ${scale})` }, range: [-0.05 * scale, 1.05 * scale] },
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
