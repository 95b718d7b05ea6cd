/**
 * When PUL stops: the selected set has become stable, |Sₜ Δ Sₜ₋₁| / |Sₜ₋₁| < ε (default 1 %), or a
 * maximum number of rounds has run.
 */
import { PulError } from '../core/errors.js';

export interface StopRule {
  /** Relative change below which the selection counts as stable (default 0.01). */
  readonly epsilon?: number;
  readonly maxRounds: number;
}

export interface StopDecision {
  readonly stop: boolean;
  readonly reason: 'stable' | 'maxRounds' | null;
  /** |Sₜ Δ Sₜ₋₁| / |Sₜ₋₁| (Infinity on the first round or when Sₜ₋₁ is empty and Sₜ is not). */
  readonly change: number;
}

/** |A Δ B| / |A| for sorted or unsorted index sets (A = previous, B = current). */
export function selectionChange(previous: ArrayLike<number>, current: ArrayLike<number>): number {
  const a = new Set<number>(Array.from(previous));
  const b = new Set<number>(Array.from(current));
  let sym = 0;
  for (const v of a) if (!b.has(v)) sym++;
  for (const v of b) if (!a.has(v)) sym++;
  if (a.size === 0) return sym === 0 ? 0 : Infinity;
  return sym / a.size;
}

/**
 * Decides after round `round` (1 = first round done) whether to stop. `previous` is null on the first round.
 * @example
 * shouldStop({ maxRounds: 25 }, 3, [1, 2, 3], [1, 2, 3]).reason; // 'stable'
 */
export function shouldStop(rule: StopRule, round: number, previous: ArrayLike<number> | null, current: ArrayLike<number>): StopDecision {
  const epsilon = rule.epsilon ?? 0.01;
  if (!(epsilon >= 0)) throw new PulError('option.outOfRange', `ε=${epsilon} must be ≥ 0 (stop.epsilon)`, { option: 'stop.epsilon' });
  if (!Number.isInteger(rule.maxRounds) || rule.maxRounds < 1) throw new PulError('option.outOfRange', `maxRounds=${rule.maxRounds} must be a whole number ≥ 1 (stop.maxRounds)`, { option: 'stop.maxRounds' });
  const change = previous === null ? Infinity : selectionChange(previous, current);
  if (change < epsilon) return { stop: true, reason: 'stable', change };
  if (round >= rule.maxRounds) return { stop: true, reason: 'maxRounds', change };
  return { stop: false, reason: null, change };
}
