/**
 * Settings a running search may change: the temperature, the KL weight and both learning
 * rates. A change is checked by the setting's own schema, takes effect at the next step
 * boundary (never inside a step), and lives in the search's config, so a save written
 * after it resumes with it. Each step record carries the values that step used, so a run
 * with changes can be replayed exactly (`settingsOfStep`).
 */
import type { StepRecord } from './record';
import { searchConfigSchema, type SearchConfig } from './config';

export const LIVE_SETTINGS = ['temperature', 'klWeight', 'policyLearningRate', 'modelLearningRate'] as const;
export type LiveSetting = (typeof LIVE_SETTINGS)[number];
export type LiveSettings = Pick<SearchConfig, LiveSetting>;

/** The changes, checked: unknown names and values outside a setting's range are refused by name. */
export function checkLiveSettings(changes: Partial<LiveSettings>): Partial<LiveSettings> {
  if (changes === null || typeof changes !== 'object') throw new TypeError('setSettings: give an object of settings, e.g. { temperature: 0.3 }');
  const problems: string[] = [];
  for (const [name, value] of Object.entries(changes)) {
    if (!(LIVE_SETTINGS as readonly string[]).includes(name)) {
      problems.push(`'${name}' cannot change while a search runs (these can: ${LIVE_SETTINGS.join(', ')})`);
      continue;
    }
    const parsed = searchConfigSchema.shape[name as LiveSetting].safeParse(value);
    if (!parsed.success || typeof value !== 'number' || !Number.isFinite(value)) problems.push(`${name}: ${String(value)} is not a valid value`);
  }
  if (problems.length > 0) throw new Error(`setSettings: ${problems.join('; ')}`);
  return changes;
}

/** What a recorded step used, to set before replaying it (`search.setSettings(settingsOfStep(record))`). */
export function settingsOfStep(record: StepRecord): Partial<LiveSettings> {
  const out: Partial<LiveSettings> = { policyLearningRate: record.policyLearningRate };
  if (record.temperature !== undefined) out.temperature = record.temperature;
  if (record.klWeight !== undefined) out.klWeight = record.klWeight;
  if (record.modelBaseLearningRate !== undefined) out.modelLearningRate = record.modelBaseLearningRate;
  return out;
}
