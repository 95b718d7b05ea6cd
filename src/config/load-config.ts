/**
 * pipelines/*.json + overrides (e.g. from CLI flags) → a validated, frozen PipelineConfig. Unknown keys,
 * wrong types and out-of-range values are one PulError('config.invalid') naming the file and every key.
 */
import { z } from '../core/zod.js';
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

/** Validates a configuration object; `source` names it in errors (a file, or "flags"). */
export function parseConfig(input: unknown, source: string): PipelineConfig {
  const result = PipelineConfigSchema.safeParse(input);
  if (!result.success) {
    throw new PulError('config.invalid', `${source} is not a valid pipeline configuration:\n${z.prettifyError(result.error)}`, { file: source });
  }
  return deepFreeze(result.data);
}

/** Reads a configuration file, applies `overrides` on top and validates the result. */
export async function loadConfig(file: string | undefined, overrides: PipelineConfigInput | Plain = {}): Promise<PipelineConfig> {
  const base = file === undefined ? {} : await readJson(file, 'config.invalid');
  if (!isPlain(base)) throw new PulError('config.invalid', `${file} must hold one JSON object`, file === undefined ? {} : { file });
  return parseConfig(mergeConfig(base, overrides), file ?? 'the command-line options');
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
