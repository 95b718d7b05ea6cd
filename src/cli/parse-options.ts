/** Option parsers for the CLI: a bad value is a usage error naming the option, the value and the rule. */
import { InvalidArgumentError } from 'commander';

export function parseChoice<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`'${value}' is not one of ${choices.join(', ')}.`);
  };
}

/** "1,5,10,20" → [1, 5, 10, 20]; every entry a whole number ≥ 1. */
export function parseRanks(value: string): number[] {
  const ranks = value.split(',').map((s) => Number(s.trim()));
  if (ranks.length === 0 || ranks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new InvalidArgumentError(`'${value}' is not a comma-separated list of whole numbers ≥ 1 (e.g. 1,5,10,20).`);
  }
  return ranks;
}

export function parseWhole(option: string, min: number): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError(`'${value}' is not a whole number ≥ ${min} (${option}).`);
    return v;
  };
}

export function parseNumber(option: string): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (value.trim() === '' || !Number.isFinite(v)) throw new InvalidArgumentError(`'${value}' is not a number (${option}).`);
    return v;
  };
}

export function parseAtLeast(option: string, min: number): (value: string) => number {
  const parse = parseNumber(option);
  return (value) => {
    const v = parse(value);
    if (v < min) throw new InvalidArgumentError(`'${value}' is below ${min} (${option}).`);
    return v;
  };
}

/** "unit" | "imagenet" | "MEAN/STD" with comma lists per channel, e.g. "0.286/0.353" or "0.5,0.5,0.5/0.25,0.25,0.25". */
export function parseNormalization(value: string): 'unit' | 'imagenet' | { mean: number[]; std: number[] } {
  if (value === 'unit' || value === 'imagenet') return value;
  const parts = value.split('/');
  const lists = parts.map((p) => p.split(',').map((s) => Number(s.trim())));
  const [mean, std] = lists;
  if (parts.length !== 2 || !mean || !std || mean.length !== std.length || mean.some((v) => !Number.isFinite(v)) || std.some((v) => !(v > 0))) {
    throw new InvalidArgumentError(`'${value}' is not unit, imagenet or MEAN/STD with as many means as positive stds (e.g. 0.286/0.353) (--normalize).`);
  }
  return { mean, std };
}

/** "HxWxC", e.g. 128x64x3 or 28x28x1: height and width ≥ 8, C 1 (grey) or 3 (RGB). */
export function parseInputSize(value: string): { height: number; width: number; channels: 1 | 3 } {
  const [height, width, channels, ...rest] = value.split(/[x×]/).map((s) => Number(s.trim()));
  if (rest.length > 0 || !Number.isInteger(height) || !Number.isInteger(width) || height! < 8 || width! < 8 || (channels !== 1 && channels !== 3)) {
    throw new InvalidArgumentError(`'${value}' is not HxWxC with H, W ≥ 8 and C 1 or 3 (e.g. 128x64x3) (--input).`);
  }
  return { height: height!, width: width!, channels };
}
