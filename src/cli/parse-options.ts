/**
 * Option parsers for the CLI: a bad value is a PulError (option.invalid / option.outOfRange, exit 2)
 * naming the flag, the value typed and the rule. Commander passes a non-commander error through, so
 * main.ts reports it like any other PulError.
 */
import { PulError, parseLossSpec } from '../index.js';

const invalid = (option: string, value: string, rule: string): PulError => new PulError('option.invalid', `${option} '${value}': ${rule}`, { option });

export function parseChoice<T extends string>(option: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw invalid(option, value, `not one of ${choices.join(', ')}`);
  };
}

/** "1,5,10,20" → [1, 5, 10, 20]; every entry a whole number ≥ 1. */
export function parseRanks(option: string): (value: string) => number[] {
  return (value) => {
    const ranks = value.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s)));
    if (ranks.some((k) => !Number.isInteger(k) || k < 1)) throw invalid(option, value, 'not a comma-separated list of whole numbers ≥ 1 (e.g. 1,5,10,20)');
    return ranks;
  };
}

/** A number as typed: an empty or blank value is no number (Number('') would be 0). */
function numberOf(option: string, value: string, what: string): number {
  const v = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(v)) throw invalid(option, value, `not ${what}`);
  return v;
}

/** A whole number ≥ min. */
export function parseWhole(option: string, min: number): (value: string) => number {
  return (value) => {
    const v = numberOf(option, value, 'a whole number');
    if (!Number.isInteger(v)) throw invalid(option, value, 'not a whole number');
    if (v < min) throw new PulError('option.outOfRange', `${option} ${value}: must be ≥ ${min}`, { option });
    return v;
  };
}

export function parseNumber(option: string): (value: string) => number {
  return (value) => numberOf(option, value, 'a number');
}

export function parseAtLeast(option: string, min: number): (value: string) => number {
  return (value) => {
    const v = numberOf(option, value, 'a number');
    if (v < min) throw new PulError('option.outOfRange', `${option} ${value}: must be ≥ ${min}`, { option });
    return v;
  };
}

/** "unit" | "imagenet" | "MEAN/STD" with comma lists per channel, e.g. "0.286/0.353" or "0.5,0.5,0.5/0.25,0.25,0.25". */
export function parseNormalization(option: string): (value: string) => 'unit' | 'imagenet' | { mean: number[]; std: number[] } {
  return (value) => {
    if (value === 'unit' || value === 'imagenet') return value;
    const parts = value.split('/');
    const lists = parts.map((p) => p.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s))));
    const [mean, std] = lists;
    if (parts.length !== 2 || !mean || !std || mean.length !== std.length || mean.some((v) => !Number.isFinite(v)) || std.some((v) => !(v > 0))) {
      throw invalid(option, value, 'not unit, imagenet or MEAN/STD with as many means as positive stds (e.g. 0.286/0.353)');
    }
    return { mean, std };
  };
}

/** "HxWxC", e.g. 128x64x3 or 28x28x1: height and width ≥ 8, C 1 (grey) or 3 (RGB). */
export function parseInputSize(option: string): (value: string) => { height: number; width: number; channels: 1 | 3 } {
  return (value) => {
    const [height, width, channels, ...rest] = value.split(/[x×]/).map((s) => (s.trim() === '' ? Number.NaN : Number(s)));
    if (rest.length > 0 || !Number.isInteger(height) || !Number.isInteger(width) || height! < 8 || width! < 8 || (channels !== 1 && channels !== 3)) {
      throw invalid(option, value, 'not HxWxC with H, W ≥ 8 and C 1 or 3 (e.g. 128x64x3)');
    }
    return { height: height!, width: width!, channels };
  };
}

/** A library parser (e.g. parseClassList) as a flag's parser: its error names the flag. */
export function parseWith<T>(option: string, parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      if (err instanceof PulError) throw new PulError(err.code, `${option} '${value}': ${err.message}`, { ...err.where, option }, { cause: err });
      throw err;
    }
  };
}

/** "P,K": P ≥ 2 identities × K ≥ 2 images per identity (a P×K batch needs a negative and a positive). */
export function parsePk(option: string): (value: string) => { p: number; k: number } {
  return (value) => {
    const parts = value.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s)));
    const [p, k] = parts;
    if (parts.length !== 2 || !Number.isInteger(p) || !Number.isInteger(k) || p! < 2 || k! < 2) throw invalid(option, value, 'not P,K with whole numbers P ≥ 2 (identities per batch) and K ≥ 2 (images per identity), e.g. 16,4');
    return { p: p!, k: k! };
  };
}

/** A loss spec, checked now (unknown names and bad weights are named before any work) and passed on as typed. */
export function parseLoss(option: string): (value: string) => string {
  return (value) => {
    parseLossSpec(value, option);
    return value;
  };
}
