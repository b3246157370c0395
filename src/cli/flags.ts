/**
 * Command-line flags generated from a settings schema (zod, with defaults and docs): one
 * flag per setting, named as the setting in kebab-case (`temperature` -> --temperature,
 * `klWeight` -> --kl-weight), typed, range-checked and documented from the schema, with
 * its default and each preset's value in the help. Older short names are aliases (--tau,
 * --lambda), listed in the help of the flag they stand for. No flag has a commander
 * default, so a flag not given leaves the setting to the preset, then the schema default,
 * and `givenSettings` can tell what the user typed (what --resume must refuse).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';

export interface FlagAlias {
  /** The alias as commander takes it: '--tau <t>', '--no-kl', '--second-order'. */
  flags: string;
  /** The setting it sets. */
  setting: string;
  /** The value a value-less alias sets ('--second-order' -> 'second'); a `--no-` alias sets false. */
  value?: unknown;
}

export interface SettingsFlagsSpec {
  schema: z.ZodObject;
  /** The value each setting takes when not given (the schema's defaults). */
  defaults: Record<string, unknown>;
  /** Per preset, the settings it changes: shown in the help beside the default. */
  presets?: Record<string, Record<string, unknown>>;
  aliases?: readonly FlagAlias[];
  /** Settings with no flag (set another way, or not from a command line). */
  omit?: readonly string[];
}

/** A parser for an integer flag that is not a setting (--epochs, --checkpoint-every, counts). */
export function parseIntArg(name: string, min = 1, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`}, got '${value}'`);
    return n;
  };
}

export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The schema of a setting without its default/optional wrapper. */
function innerType(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s;
}

interface NumberRange {
  integer: boolean;
  min: number;
  minInclusive: boolean;
  max: number;
  maxInclusive: boolean;
}

function numberRange(schema: z.ZodNumber): NumberRange {
  const range: NumberRange = { integer: false, min: -Infinity, minInclusive: false, max: Infinity, maxInclusive: false };
  for (const check of schema._zod.def.checks ?? []) {
    const def = check._zod.def as { check: string; value?: number; inclusive?: boolean; format?: string };
    if (def.check === 'number_format' && (def.format === 'safeint' || def.format === 'int32')) range.integer = true;
    if (def.check === 'greater_than' && def.value! >= range.min) Object.assign(range, { min: def.value, minInclusive: def.inclusive === true });
    if (def.check === 'less_than' && def.value! <= range.max) Object.assign(range, { max: def.value, maxInclusive: def.inclusive === true });
  }
  return range;
}

function rangeText(range: NumberRange): string {
  // An integer above 0 reads as >= 1.
  const r = range.integer && !range.minInclusive && Number.isInteger(range.min) ? { ...range, min: range.min + 1, minInclusive: true } : range;
  if (r.integer && r.max === Infinity) return `an integer ${r.minInclusive ? '>=' : '>'} ${r.min}`;
  const low = r.min === -Infinity ? '(-inf' : `${r.minInclusive ? '[' : '('}${r.min}`;
  const high = r.max === Infinity ? 'inf)' : `${r.max}${r.maxInclusive ? ']' : ')'}`;
  return `${r.integer ? 'an integer' : 'a number'} in ${low}, ${high}`;
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** Parses one flag's text into the setting's value, checked by the setting's own schema. */
function parserFor(flag: string, schema: z.ZodType): ((text: string) => unknown) | undefined {
  const inner = innerType(schema);
  const check = (value: unknown, text: string, expected: string): unknown => {
    if (!schema.safeParse(value).success) throw new InvalidArgumentError(`${flag} must be ${expected}, got '${text}'`);
    return value;
  };
  if (inner instanceof z.ZodNumber) {
    const expected = rangeText(numberRange(inner));
    return (text) => check(text.trim() === '' ? NaN : Number(text), text, expected);
  }
  if (inner instanceof z.ZodTuple) {
    return (text) => check(text.split(',').map((v) => (v.trim() === '' ? NaN : Number(v))), text, `${inner._zod.def.items.length} comma-separated numbers within the setting's range`);
  }
  if (inner instanceof z.ZodArray) return (text) => check(text.split(',').map((v) => v.trim()).filter((v) => v !== ''), text, 'a comma-separated list');
  return undefined; // strings, enums (commander checks the choices), booleans
}

function valueName(inner: z.ZodType, name: string): string {
  if (inner instanceof z.ZodNumber) return numberRange(inner).integer ? '<n>' : '<x>';
  if (inner instanceof z.ZodTuple) return '<min,max>';
  if (inner instanceof z.ZodArray) return '<a,b,...>';
  if (inner instanceof z.ZodEnum) return '<name>';
  return `<${kebabCase(name).split('-').pop()}>`;
}

/** Adds a flag (and its aliases) for every setting of `spec.schema`. */
export function addSettingsFlags(command: Command, spec: SettingsFlagsSpec): void {
  const aliases = spec.aliases ?? [];
  for (const [name, schema] of Object.entries(spec.schema.shape) as Array<[string, z.ZodType]>) {
    if (spec.omit?.includes(name)) continue;
    const inner = innerType(schema);
    const flag = `--${kebabCase(name)}`;
    const own = aliases.filter((a) => a.setting === name);
    const presetNotes = Object.entries(spec.presets ?? {})
      .filter(([, values]) => name in values && values[name] !== spec.defaults[name])
      .map(([preset, values]) => `; ${preset}: ${formatValue(values[name])}`)
      .join('');
    const fallback = spec.defaults[name] === undefined ? '' : ` (default ${formatValue(spec.defaults[name])}${presetNotes})`;
    const aliasNote = own.length > 0 ? `; alias ${own.map((a) => a.flags.split(' ')[0]).join(', ')}` : '';
    const help = `${schema.description ?? name}${fallback}${aliasNote}`;
    if (inner instanceof z.ZodBoolean) {
      const onByDefault = spec.defaults[name] === true;
      // The flag that changes the default is shown; an optional switch shows both.
      const describe = (state: string) => `${schema.description ?? name} (${state}${presetNotes})${aliasNote}`;
      command.addOption(new Option(flag, describe(spec.defaults[name] === undefined ? 'default: on unless a flip changes the dataset\'s labels' : 'off by default')).hideHelp(onByDefault));
      command.addOption(new Option(`--no-${kebabCase(name)}`, describe(spec.defaults[name] === undefined ? 'turns it off' : 'on by default; this turns it off')).hideHelp(!onByDefault && spec.defaults[name] !== undefined));
    } else {
      const option = new Option(`${flag} ${valueName(inner, name)}`, help);
      if (inner instanceof z.ZodEnum) option.choices(inner.options.map(String));
      const parse = parserFor(flag, schema);
      if (parse) option.argParser(parse);
      command.addOption(option);
    }
    for (const alias of own) {
      const option = new Option(alias.flags, `alias of ${alias.value !== undefined ? `${flag} ${String(alias.value)}` : alias.flags.startsWith('--no-') ? `--no-${kebabCase(name)}` : flag}`).hideHelp();
      const parse = alias.flags.includes('<') ? parserFor(alias.flags.split(' ')[0]!, schema) : undefined;
      if (parse) option.argParser(parse);
      if (inner instanceof z.ZodEnum && alias.value === undefined) option.choices(inner.options.map(String));
      command.addOption(option);
    }
  }
}

/**
 * The settings given on the command line (not defaults), by setting name; an alias and
 * its flag given together are refused.
 */
export function givenSettings(command: Command, spec: SettingsFlagsSpec): Record<string, unknown> {
  const given: Record<string, unknown> = {};
  const from: Record<string, string> = {};
  const values = command.opts<Record<string, unknown>>();
  const handled = new Set<string>();
  for (const option of command.options) {
    const attribute = option.attributeName();
    // --x and --no-x share one attribute: one entry whichever came last.
    if (handled.has(attribute) || command.getOptionValueSource(attribute) !== 'cli') continue;
    handled.add(attribute);
    const value = values[attribute];
    const flag = typeof value === 'boolean' ? `--${value ? '' : 'no-'}${kebabCase(attribute)}` : `--${kebabCase(attribute)}`;
    let setting: string | undefined;
    let settingValue = value;
    if (attribute in spec.schema.shape && !spec.omit?.includes(attribute)) setting = attribute;
    else {
      const alias = spec.aliases?.find((a) => a.flags.split(' ')[0]!.replace(/^--(no-)?/, '') === kebabCase(attribute));
      if (alias) {
        setting = alias.setting;
        if (alias.value !== undefined) settingValue = alias.value;
      }
    }
    if (setting === undefined) continue; // not a setting: --out, --resume, ...
    if (setting in given) throw new InvalidArgumentError(`${from[setting]} and ${flag} both set ${setting}; give one`);
    given[setting] = settingValue;
    from[setting] = flag;
  }
  return given;
}

/** The flags given on the command line, as typed (for messages naming them). */
export function givenFlags(command: Command, exclude: readonly string[] = []): string[] {
  const values = command.opts<Record<string, unknown>>();
  const flags = new Set<string>();
  for (const option of command.options) {
    const attribute = option.attributeName();
    if (exclude.includes(attribute) || command.getOptionValueSource(attribute) !== 'cli') continue;
    const value = values[attribute];
    flags.add(typeof value === 'boolean' ? `--${value ? '' : 'no-'}${kebabCase(attribute)}` : `--${kebabCase(attribute)}`);
  }
  return [...flags];
}
