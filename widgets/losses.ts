/** Loss curves of a search: train CE, policy-step loss and its CE part, KL, accuracies. */
import type { StepRecord } from '../src/search/record';
import { round, withDefaults } from './common';
import type { Annotation, Figure, ScatterTrace } from './types';

export interface LossCurveOptions {
  /** Figure title. */
  title: string;
  /** Height in pixels. */
  height: number;
  /** Width in pixels; undefined lets the chart fill its container. */
  width: number | undefined;
  /**
   * Exponential moving average factor in [0, 1) drawn over the (faint) raw curves; 0 draws
   * raw values only; 'auto' smooths (0.8) from 30 steps on, where per-step losses are noise.
   */
  smoothing: number | 'auto';
  /** Add a third panel with train and val accuracy. */
  showAccuracy: boolean;
}

export const LOSS_CURVE_DEFAULTS: LossCurveOptions = {
  title: 'Search losses',
  height: 520,
  width: undefined,
  smoothing: 'auto',
  showAccuracy: true,
};

interface Series {
  name: string;
  value: (r: StepRecord) => number;
  colour: string;
  panel: 1 | 2 | 3;
}

const SERIES: Series[] = [
  { name: 'train CE', value: (r) => r.trainLoss, colour: '#1f77b4', panel: 1 },
  { name: 'val loss (CE + λ·KL)', value: (r) => r.valLoss, colour: '#d62728', panel: 1 },
  { name: 'val CE', value: (r) => r.valCrossEntropy, colour: '#ff7f0e', panel: 1 },
  { name: 'KL(p_ori ‖ p_aug)', value: (r) => r.kl, colour: '#9467bd', panel: 2 },
  // Colours of their own: the accuracies are other quantities than the CE curves above.
  { name: 'train accuracy', value: (r) => r.trainAccuracy, colour: '#2ca02c', panel: 3 },
  { name: 'val accuracy', value: (r) => r.valAccuracy, colour: '#8c564b', panel: 3 },
];

/** Exponential moving average that skips gaps (null) without resetting. */
export function exponentialMovingAverage(values: readonly (number | null)[], factor: number): (number | null)[] {
  let state: number | null = null;
  return values.map((v) => {
    if (v === null) return null;
    state = state === null ? v : factor * state + (1 - factor) * v;
    return state;
  });
}

/**
 * Builds the loss figure from step records. Rejected steps (non-finite loss, nothing
 * changed) and non-finite values leave gaps; their count is noted under the title.
 */
export function lossCurves(steps: readonly StepRecord[], options?: Partial<LossCurveOptions>): Figure {
  const o = withDefaults(LOSS_CURVE_DEFAULTS, options);
  const smoothing = o.smoothing === 'auto' ? (steps.length >= 30 ? 0.8 : 0) : o.smoothing;
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`lossCurves: smoothing must be in [0, 1) or 'auto', got ${o.smoothing}`);
  const panels = o.showAccuracy ? 3 : 2;
  const x = steps.map((r) => r.step);
  const traces: ScatterTrace[] = [];
  for (const series of SERIES) {
    if (series.panel > panels) continue;
    const y = steps.map((r) => {
      const v = series.value(r);
      return r.rejected === undefined && Number.isFinite(v) ? round(v) : null;
    });
    const axis = series.panel === 1 ? '' : String(series.panel);
    const common = { type: 'scatter', x, xaxis: `x${axis}`, yaxis: `y${axis}`, legendgroup: series.name } as const;
    if (smoothing > 0) {
      traces.push({ ...common, name: series.name, y, mode: 'lines', line: { color: series.colour, width: 1 }, opacity: 0.3, showlegend: false, hovertemplate: `${series.name}<br>step %{x}: %{y:.4g}<extra>raw</extra>` });
      traces.push({ ...common, name: series.name, y: exponentialMovingAverage(y, smoothing).map((v) => (v === null ? null : round(v))), mode: 'lines', line: { color: series.colour, width: 2.5 }, hovertemplate: `${series.name}<br>step %{x}: %{y:.4g}<extra>smoothed (EMA ${smoothing})</extra>` });
    } else {
      traces.push({ ...common, name: series.name, y, mode: steps.length > 1 ? 'lines' : 'markers', line: { color: series.colour, width: 2 }, marker: { color: series.colour, size: 6 }, hovertemplate: `${series.name}<br>step %{x}: %{y:.4g}<extra></extra>` });
    }
  }
  const rejected = steps.filter((r) => r.rejected !== undefined).length;
  const annotations: Annotation[] = rejected > 0
    ? [{ text: `${rejected} rejected step${rejected === 1 ? '' : 's'} (non-finite loss) left as gaps`, x: 0, y: 1.06, xref: 'paper', yref: 'paper', showarrow: false, xanchor: 'left', yanchor: 'bottom', font: { size: 11, color: '#b00' } }]
    : [];
  const gap = 0.07;
  const share = (1 - gap * (panels - 1)) / panels;
  const domain = (panel: number): [number, number] => {
    const top = 1 - (panel - 1) * (share + gap);
    return [round(Math.max(0, top - share)), round(top)];
  };
  const layout: Figure['layout'] = {
    title: { text: o.title, x: 0.02 },
    height: o.height,
    margin: { l: 60, r: 20, t: 84, b: 45 },
    hovermode: 'closest',
    showlegend: true,
    // Above the panels, clear of the bottom axis's title.
    legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.02, yanchor: 'bottom', font: { size: 11 } },
    annotations,
    xaxis: { anchor: 'y', domain: [0, 1], },
    yaxis: { anchor: 'x', domain: domain(1), title: { text: 'loss' } },
    xaxis2: { anchor: 'y2', domain: [0, 1], title: panels === 2 ? { text: 'step' } : undefined },
    yaxis2: { anchor: 'x2', domain: domain(2), title: { text: 'KL' } },
  };
  if (panels === 3) {
    layout.xaxis3 = { anchor: 'y3', domain: [0, 1], title: { text: 'step' } };
    layout.yaxis3 = { anchor: 'x3', domain: domain(3), title: { text: 'accuracy' }, range: [0, 1] };
  }
  if (o.width !== undefined) layout.width = o.width;
  for (const key of Object.keys(layout) as (keyof typeof layout)[]) {
    const axis = layout[key];
    if (axis && typeof axis === 'object' && 'title' in axis && axis.title === undefined) delete axis.title;
  }
  return { data: traces, layout, config: { responsive: true, displaylogo: false } };
}
