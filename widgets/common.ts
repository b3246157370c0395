/** Pieces shared by the figure builders: colours, sliders, layer menus, input checks. */
import type { PolicySnapshot, SnapshotRecord } from '../src/search/record';
import type { ColorScale, Slider, UpdateMenu } from './types';

/** Viridis at nine stops: perceptually uniform and readable in grey scale. */
/** Blue (less likely than uniform) through white (uniform) to red (more likely): ColorBrewer RdBu. */
export const DIVERGING: ColorScale = [
  [0, '#2166ac'],
  [0.25, '#92c5de'],
  [0.5, '#f7f7f7'],
  [0.75, '#f4a582'],
  [1, '#b2182b'],
];

export const VIRIDIS: ColorScale = [
  [0, '#440154'],
  [0.125, '#472d7b'],
  [0.25, '#3b528b'],
  [0.375, '#2c728e'],
  [0.5, '#21918c'],
  [0.625, '#28ae80'],
  [0.75, '#5ec962'],
  [0.875, '#addc30'],
  [1, '#fde725'],
];

/** Plotly's default qualitative colours, extended to cover 16 operators. */
export const CATEGORY_COLOURS = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf', '#393b79', '#ad494a', '#637939', '#843c39', '#7b4173', '#3182bd',
];

export function categoryColour(index: number): string {
  return CATEGORY_COLOURS[index % CATEGORY_COLOURS.length]!;
}

export function layerLabel(layer: number): string {
  return `layer ${layer + 1}`;
}

/** Fills the fields an options object leaves out from the defaults (one level deep). */
export function withDefaults<T extends object>(defaults: T, options: Partial<T> | undefined): T {
  const merged = { ...defaults };
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** Rounds for the emitted JSON: 6 significant digits keep specs small and snapshots stable. */
export function round(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(6)) : value;
}

/**
 * Checks that snapshots are non-empty, in step order and share one shape, so every
 * frame of a figure lines up with its base traces.
 */
export function checkSnapshots(snapshots: readonly SnapshotRecord[], figure: string): { ops: string[]; layers: number } {
  const first = snapshots[0];
  if (!first) throw new Error(`${figure}: needs at least one policy snapshot, got none`);
  const ops = first.policy.ops;
  const layers = first.policy.layers.length;
  snapshots.forEach((snapshot, i) => {
    checkPolicy(snapshot.policy, `${figure}: snapshot ${i} (step ${snapshot.step})`);
    if (snapshot.policy.ops.join() !== ops.join() || snapshot.policy.layers.length !== layers) {
      throw new Error(
        `${figure}: snapshot ${i} (step ${snapshot.step}) has ${snapshot.policy.layers.length} layers over ` +
          `[${snapshot.policy.ops.join(', ')}], but the first has ${layers} layers over [${ops.join(', ')}]`,
      );
    }
    const previous = snapshots[i - 1];
    if (previous && previous.step >= snapshot.step) {
      throw new Error(`${figure}: snapshots must be in increasing step order; step ${snapshot.step} follows step ${previous.step}`);
    }
  });
  return { ops, layers };
}

export function checkPolicy(policy: PolicySnapshot, where: string): void {
  if (policy.layers.length === 0) throw new Error(`${where}: the policy has no layers`);
  const k = policy.ops.length;
  policy.layers.forEach((layer, d) => {
    for (const field of ['probabilities', 'mu', 'sigma'] as const) {
      if (layer[field].length !== k) {
        throw new Error(`${where}: ${layerLabel(d)} has ${layer[field].length} ${field} for ${k} operators`);
      }
    }
  });
}

/** A slider whose steps show frames `step <n>`, starting at `active`. */
export function stepSlider(steps: readonly number[], active: number, prefix = 'step ', padTop = 40): Slider {
  return {
    active,
    currentvalue: { prefix },
    pad: { t: padTop },
    x: 0.05,
    len: 0.9,
    steps: steps.map((step) => ({
      label: String(step),
      method: 'animate',
      args: [[frameName(step)], { mode: 'immediate', frame: { duration: 0, redraw: true }, transition: { duration: 0 } }],
    })),
  };
}

export function frameName(step: number): string {
  return `step ${step}`;
}

/**
 * A drop-down that shows one group of traces at a time: `groupOf[i]` is the group of
 * trace i; choosing group g makes exactly its traces visible.
 */
export function groupMenu(labels: readonly string[], groupOf: readonly number[], active: number): UpdateMenu {
  return {
    type: 'dropdown',
    active,
    direction: 'down',
    showactive: true,
    x: 0,
    xanchor: 'left',
    y: 1.16,
    yanchor: 'top',
    buttons: labels.map((label, g) => ({
      label,
      method: 'restyle',
      args: [{ visible: groupOf.map((group) => group === g) }],
    })),
  };
}
