/**
 * A self-contained report.html for a search run: plotly.js inlined once (works offline,
 * no CDN), every figure with its static SVG beneath for script-less viewers, the policy
 * summary and the run configuration. Written atomically (temp file + rename).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { figureHtml, figureToSvg, lossCurves, magnitudeDistributions, plotlyScriptTag, probabilityHeatmap, probabilityTrajectories, sampleGrid, type Figure, type SampleGridData } from '../../widgets';
import { escapeXml } from '../../widgets/svg';
import { policyText } from '../search/summary';
import type { HistoryLike } from '../notebook/shape';
import type { PolicySnapshot, SnapshotRecord } from '../search/record';
import { writeTextAtomic } from '../util/files';

export interface ReportData {
  history: HistoryLike;
  /** The final policy (appended as the last snapshot when newer than the history's). */
  policy: PolicySnapshot;
  /** Step the final policy belongs to (default: the last step record's). */
  step?: number;
  title?: string;
  /** Shown as a key/value table (search configuration, backend...). */
  details?: Record<string, unknown>;
  /** Pre-encoded sample grid (see encodeSamples in the notebook module). */
  samples?: SampleGridData;
}

function snapshotsFor(data: ReportData): SnapshotRecord[] {
  const recorded = data.history.snapshots;
  const step = data.step ?? data.history.steps[data.history.steps.length - 1]?.step ?? recorded[recorded.length - 1]?.step ?? 0;
  const last = recorded[recorded.length - 1];
  return !last || last.step < step ? [...recorded, { step, policy: data.policy }] : recorded;
}

function section(title: string, figure: Figure, id: string): string {
  return `<section><h2>${escapeXml(title)}</h2>\n${figureHtml(figure, { elementId: id, staticSvg: figureToSvg(figure) })}</section>`;
}

function detailsTable(details: Record<string, unknown>): string {
  const rows = Object.entries(details).map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`);
  return `<section><h2>Configuration</h2><table>${rows.join('')}</table></section>`;
}

/** The report as one HTML string. */
export function reportHtml(data: ReportData): string {
  const title = data.title ?? 'DRA search report';
  const snapshots = snapshotsFor(data);
  const last = snapshots[snapshots.length - 1]!;
  const parts: string[] = [];
  if (data.history.steps.length > 0) parts.push(section('Losses', lossCurves(data.history.steps), 'report-losses'));
  parts.push(section('Operator probabilities', probabilityHeatmap(snapshots), 'report-probabilities'));
  if (snapshots.length > 1) parts.push(section('Probability trajectories', probabilityTrajectories(snapshots), 'report-trajectories'));
  parts.push(section('Magnitudes', magnitudeDistributions(snapshots), 'report-magnitudes'));
  if (data.samples) parts.push(section('Samples', sampleGrid(data.samples), 'report-samples'));
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeXml(title)}</title>`,
    '<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1100px}h2{font-size:17px;margin-top:28px}pre{background:#f6f6f6;padding:8px}table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}</style>',
    plotlyScriptTag(),
    '</head><body>',
    `<h1>${escapeXml(title)}</h1>`,
    `<p>${data.history.steps.length} steps recorded, ${snapshots.length} policy snapshots.</p>`,
    `<pre>${escapeXml(policyText(last.policy, last.step))}</pre>`,
    ...parts,
    data.details ? detailsTable(data.details) : '',
    '</body></html>',
    '',
  ].join('\n');
}

/** Writes `<dir>/report.html` (or `dir` itself when it ends in .html); returns the path. */
export function writeReport(dir: string, data: ReportData): string {
  const file = dir.endsWith('.html') ? dir : join(dir, 'report.html');
  const html = reportHtml(data);
  const folder = dirname(file);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create ${folder} for the report: ${(err as Error).message}`);
  }
  writeTextAtomic(file, html);
  return file;
}

/** What the report needs of a search. */
export interface ReportableSearch {
  history: HistoryLike;
  policy: { snapshot(): PolicySnapshot };
  stepCount: number;
  config?: object;
}

/** The report of a search (used by `dralab search`); returns the file written. */
export function writeSearchReport(search: ReportableSearch, file: string): string {
  return writeReport(file, {
    history: search.history,
    policy: search.policy.snapshot(),
    step: search.stepCount,
    ...(search.config ? { details: { ...search.config } as Record<string, unknown> } : {}),
  });
}
