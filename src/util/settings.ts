/**
 * Settings objects checked in one way: a zod schema per object holds each setting's type,
 * range, default and documentation; `resolveSettings` refuses unknown names (with the
 * nearest valid one) and names each bad value; the CLI's flags are generated from the same
 * schema (src/cli/flags.ts).
 */
import { z } from 'zod';

/** Problems found across settings (what one field's schema cannot see), as `name: problem`. */
export type CrossCheck<T> = (settings: T) => string[];

/**
 * Validates settings against a schema with defaults: unknown names are refused with the
 * nearest valid one, each bad value is named with its problem, then `cross` runs.
 */
export function resolveSettings<S extends z.ZodObject>(what: string, schema: S, given: Record<string, unknown>, cross?: CrossCheck<z.infer<S>>): z.infer<S> {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new TypeError(`invalid ${what}: settings must be an object, got ${given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given}`);
  }
  const known = Object.keys(schema.shape);
  const unknown = Object.keys(given).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new Error(`invalid ${what}:\n  - ${unknown.map((key) => `unknown setting '${key}'${nearestName(key, known) ? ` (did you mean '${nearestName(key, known)}'?)` : ''}`).join('\n  - ')}`);
  }
  const parsed = schema.safeParse(given);
  if (!parsed.success) throw new Error(`invalid ${what}:\n  - ${parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${describeIssue(i)}`).join('\n  - ')}`);
  const problems = cross ? cross(parsed.data) : [];
  if (problems.length) throw new Error(`invalid ${what}:\n  - ${problems.join('\n  - ')}`);
  return parsed.data;
}

/** A zod issue as a short phrase: "must be > 0, got 0" rather than zod's own wording. */
export function describeIssue(issue: z.core.$ZodIssue, value?: unknown): string {
  const got = value === undefined ? '' : `, got ${JSON.stringify(value)}`;
  switch (issue.code) {
    case 'too_small':
      return issue.origin === 'array' ? `needs at least ${String(issue.minimum)} item(s)${got}` : `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}${got}`;
    case 'too_big':
      return issue.origin === 'array' ? `takes at most ${String(issue.maximum)} item(s)${got}` : `must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}${got}`;
    case 'invalid_type':
      return `must be ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}${got}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}${got}`;
    default:
      return `${issue.message}${got}`;
  }
}

/** The known name closest to `name` by edit distance, if it is close (a typo, not another word). */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

