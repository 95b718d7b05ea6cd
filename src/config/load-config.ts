/**
 * pipelines/*.json + overrides (e.g. from CLI flags) → a validated, frozen PipelineConfig. Unknown keys,
 * wrong types and out-of-range values are one PulError('config.invalid') naming the file and every key
 * (or the flag that set it).
 */
import { PulError } from '../core/errors.js';
import { readJson } from '../core/atomic-fs.js';
import { PipelineConfigSchema, type PipelineConfig, type PipelineConfigInput } from './schema.js';

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys that select the form of a union (λ's schedule): an override that changes one replaces the object. */
const DISCRIMINANTS = ['schedule'];

/** Deep merge: objects merge key by key, anything else in `override` replaces. */
export function mergeConfig(base: unknown, override: unknown): unknown {
  if (!isPlain(base) || !isPlain(override)) return override === undefined ? base : override;
  if (DISCRIMINANTS.some((k) => k in override && override[k] !== base[k])) return override;
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = mergeConfig(base[key], value);
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A key set (or settable) by a caller's flag: errors about it name the flag when it was typed. */
export interface ConfigFlag {
  readonly flag: string;
  readonly typed: boolean;
}

/** Config keys (dotted; a parent covers its children) → the flag of the caller that sets them. */
export type ConfigFlags = Readonly<Record<string, ConfigFlag>>;

/**
 * The entry of `table` for a dotted config key: the key itself or its nearest parent present
 * (selection.lambda.value → selection.lambda), else undefined.
 * @example nearestKey('selection.lambda.value', { 'selection.lambda': '--lambda' }) // 'selection.lambda'
 */
export function nearestKey(key: string, table: Readonly<Record<string, unknown>>): string | undefined {
  for (let k = key; k !== ''; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') if (Object.hasOwn(table, k)) return k;
  return undefined;
}

function flagOf(key: string, flags: ConfigFlags): ConfigFlag | undefined {
  const k = nearestKey(key, flags);
  return k === undefined ? undefined : flags[k];
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) v = isPlain(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/**
 * Validates a configuration object; `source` names where it came from (a file, or "the command-line
 * options"). Each problem names its config key, or the flag in `flags` that set it: a bad value typed
 * as a flag blames the flag, not the file; a missing key a flag could give says which flag.
 * @example parseConfig({ data: { target: { path: 'market' } }, clustering: { k: 750 } }, 'inline')
 */
export function parseConfig(input: unknown, source: string, flags: ConfigFlags = {}): PipelineConfig {
  const result = PipelineConfigSchema.safeParse(input);
  if (result.success) return deepFreeze(result.data);
  let fileToBlame = false;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '(root)';
    const value = valueAt(input, issue.path);
    const flag = flagOf(key, flags);
    // a missing key: absent where a value is required (a custom issue: required by another key's choice, e.g. clustering.k by method 'pul')
    if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'custom')) {
      if (flag === undefined) fileToBlame = true;
      const why = issue.code === 'custom' ? `: ${issue.message}` : '';
      return { name: flag?.flag ?? key, text: flag === undefined ? `${key} is needed${why}` : `${flag.flag} is needed (${key})${why}` };
    }
    if (flag?.typed) return { name: flag.flag, text: `${flag.flag} ${JSON.stringify(valueAt(input, issue.path))}: ${issue.message}` };
    fileToBlame = true;
    return { name: key, text: `${key}${value === undefined ? '' : ` = ${JSON.stringify(value)}`}: ${issue.message}` };
  });
  const list = problems.map((p) => `  ${p.text}`).join('\n');
  const option = problems[0]?.name;
  throw new PulError(
    'config.invalid',
    fileToBlame ? `${source} is not a valid pipeline configuration:\n${list}` : `invalid option${problems.length > 1 ? 's' : ''}:\n${list}`,
    { ...(fileToBlame ? { file: source } : {}), ...(option === undefined ? {} : { option }) },
  );
}

/** A configuration file's JSON object, not yet validated (to merge flags into before {@link parseConfig}). */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const raw = await readJson(file, 'config.invalid');
  if (!isPlain(raw)) throw new PulError('config.invalid', `${file} must hold one JSON object`, { file });
  return raw;
}

/** Reads a configuration file, applies `overrides` on top and validates the result. */
export async function loadConfig(file: string | undefined, overrides: PipelineConfigInput | Plain = {}, flags: ConfigFlags = {}): Promise<PipelineConfig> {
  const base = file === undefined ? {} : await readConfigFile(file);
  return parseConfig(mergeConfig(base, overrides), file ?? 'the command-line options', flags);
}

/** The keys whose values differ between two configurations (dotted paths), for `--resume` checks. */
export function configDifferences(a: unknown, b: unknown, prefix = ''): string[] {
  if (isPlain(a) && isPlain(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => configDifferences(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(root)'];
}

/**
 * The check of every `--resume` (pul run, pul train): the settings a run was started with against the
 * current ones. Keys the saved settings lack (an earlier pul did not record them) and `ignore`d keys are
 * not compared. A difference is refused by name unless `force`; returns the differing keys.
 */
export function checkResumeSettings(saved: unknown, current: unknown, options: { readonly dir: string; readonly what: string; readonly force?: boolean; readonly ignore?: readonly string[] }): string[] {
  const recorded = isPlain(saved) ? new Set(Object.keys(saved)) : null;
  const changed = configDifferences(saved, current).filter((key) => {
    const top = key.split('.')[0]!;
    return (recorded === null || recorded.has(top)) && !(options.ignore ?? []).some((i) => key === i || key.startsWith(`${i}.`));
  });
  if (changed.length > 0 && !options.force) {
    throw new PulError('state.configChanged', `the ${options.what} differs from the one ${options.dir} was started with (${changed.join(', ')}); resume with the same ${options.what}, or add --force`, { file: options.dir });
  }
  return changed;
}
