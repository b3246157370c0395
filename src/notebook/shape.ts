/**
 * Turning library objects (a search, its history, a policy, a run folder) into the plain
 * data the figure builders take. Nothing downstream of this file sees tensors.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readPolicyFile } from '../policy/schema';
import { History } from '../search/history';
import type { PolicySnapshot, SnapshotRecord, StepRecord } from '../search/record';

/** What the notebook layer needs of a search: plain-data accessors only. */
export interface SearchLike {
  history: HistoryLike;
  policy: { snapshot(): PolicySnapshot };
  stepCount: number;
}

export interface HistoryLike {
  steps: StepRecord[];
  snapshots: SnapshotRecord[];
}

export type PolicySource = PolicySnapshot | SnapshotRecord[] | HistoryLike | SearchLike;

function isSearch(x: unknown): x is SearchLike {
  return typeof x === 'object' && x !== null && 'policy' in x && typeof (x as SearchLike).policy?.snapshot === 'function' && 'history' in x;
}

function isHistory(x: unknown): x is HistoryLike {
  return typeof x === 'object' && x !== null && Array.isArray((x as HistoryLike).steps) && Array.isArray((x as HistoryLike).snapshots);
}

function isPolicy(x: unknown): x is PolicySnapshot {
  return typeof x === 'object' && x !== null && Array.isArray((x as PolicySnapshot).layers) && Array.isArray((x as PolicySnapshot).ops);
}

export function stepsOf(source: HistoryLike | SearchLike | StepRecord[], where: string): StepRecord[] {
  if (Array.isArray(source)) return source;
  if (isSearch(source)) return source.history.steps;
  if (isHistory(source)) return source.steps;
  throw new Error(`${where}: expected a search, a history ({steps, snapshots}) or an array of step records`);
}

/**
 * The snapshots to plot: a search's recorded snapshots with its current policy appended
 * when newer; a history's snapshots; a lone policy as one snapshot (at meta.step or 0).
 */
export function snapshotsOf(source: PolicySource, where: string): SnapshotRecord[] {
  if (isSearch(source)) {
    const recorded = source.history.snapshots;
    const last = recorded[recorded.length - 1];
    if (!last || last.step < source.stepCount) return [...recorded, { step: source.stepCount, policy: source.policy.snapshot() }];
    return recorded;
  }
  if (Array.isArray(source)) return source;
  if (isHistory(source)) {
    if (source.snapshots.length === 0) throw new Error(`${where}: the history has no policy snapshots`);
    return source.snapshots;
  }
  if (isPolicy(source)) {
    const step = typeof source.meta?.step === 'number' ? source.meta.step : 0;
    return [{ step, policy: source }];
  }
  throw new Error(`${where}: expected a policy snapshot, a search, a history or an array of snapshots`);
}

/** The newest policy of a source. */
export function latestPolicy(source: PolicySource, where: string): PolicySnapshot {
  const snapshots = snapshotsOf(source, where);
  return snapshots[snapshots.length - 1]!.policy;
}

/** A saved run: its history (if any) and its final policy. */
export interface LoadedRun {
  history: HistoryLike;
  policy: PolicySnapshot;
  source: string;
}

/** A validated policy file as a snapshot (hand-made files may lack weights: log p serves). */
function readPolicy(path: string): PolicySnapshot {
  const file = readPolicyFile(path);
  return { ...file, version: 1, layers: file.layers.map((l) => ({ ...l, weights: l.weights ?? l.probabilities.map((p) => Math.log(p)) })) } as PolicySnapshot;
}

function readHistory(path: string): HistoryLike {
  return History.fromJsonLines(readFileSync(path, 'utf8'), path);
}

/** Reads a policy.json, or a run folder holding policy.json and history.jsonl. */
export function loadRun(path: string): LoadedRun {
  if (!existsSync(path)) throw new Error(`loadRun: ${path} does not exist (expected a policy.json or a run folder)`);
  if (statSync(path).isDirectory()) {
    const policyPath = join(path, 'policy.json');
    const historyPath = join(path, 'history.jsonl');
    if (!existsSync(policyPath)) throw new Error(`loadRun: ${path} has no policy.json (is it a run folder?)`);
    const policy = readPolicy(policyPath);
    const history = existsSync(historyPath) ? readHistory(historyPath) : { steps: [], snapshots: [] };
    return { history, policy, source: path };
  }
  const policy = readPolicy(path);
  return { history: { steps: [], snapshots: [] }, policy, source: path };
}
