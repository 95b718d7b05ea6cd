/**
 * λ per PUL round: constant (the authors' code: 0.85 every round) or growing (the paper: start, +step
 * each round, capped at max), so later rounds, with a better model, keep more samples.
 */
import { PulError } from '../core/errors.js';

/** The config's `selection.lambda` as it is (pipelines/*.json uses the same keys). */
export type LambdaSchedule =
  | { readonly schedule: 'constant'; readonly value: number }
  | { readonly schedule: 'growing'; readonly start: number; readonly step: number; readonly max: number };

/** The authors' code: λ = 0.85 every round. */
export const AUTHORS_LAMBDA: LambdaSchedule = { schedule: 'constant', value: 0.85 };

/** Throws `option.outOfRange` naming `option` unless λ is a number in [−1, 1] (a cosine). */
export function assertLambda(value: number, option = 'selection.lambda'): void {
  if (!(value >= -1 && value <= 1)) throw new PulError('option.outOfRange', `λ=${value} is outside [-1, 1]; λ is a cosine similarity`, { option });
}

/** Throws option.outOfRange naming the selection.lambda key unless the schedule's λ values are cosines. */
export function validateLambdaSchedule(s: LambdaSchedule): void {
  if (s.schedule === 'constant') return assertLambda(s.value, 'selection.lambda.value');
  assertLambda(s.start, 'selection.lambda.start');
  assertLambda(s.max, 'selection.lambda.max');
  if (!Number.isFinite(s.step)) throw new PulError('option.outOfRange', `λ step ${s.step} must be finite`, { option: 'selection.lambda.step' });
}

/**
 * λ of round `round` (0 = first round).
 * @example
 * lambdaAt({ schedule: 'growing', start: 0.6, step: 0.05, max: 0.8 }, 2); // 0.7
 */
export function lambdaAt(s: LambdaSchedule, round: number): number {
  validateLambdaSchedule(s);
  if (!Number.isInteger(round) || round < 0) throw new PulError('option.outOfRange', `round ${round} must be a whole number ≥ 0`, { option: 'round' });
  if (s.schedule === 'constant') return s.value;
  const v = s.start + s.step * round;
  return s.step >= 0 ? Math.min(s.max, v) : Math.max(s.max, v);
}
