/**
 * When PUL stops: the pseudo-labelled selection has settled between two rounds, or `maxRounds` rounds
 * have run. Comparing only the selected index sets misses relabelling: at λ = 0.85 nearly every sample
 * is selected every round, so the set never changes while k-means moves samples between clusters.
 *
 * change = max(set change, 1 − max(ARI, 0)), in [0, 1], where
 * - set change = (entered + left) / |Sₜ₋₁ ∪ Sₜ| (the share of samples entering or leaving the selection);
 * - ARI = adjusted Rand index (Hubert & Arabie 1985) between the two rounds' pseudo-labels on the samples
 *   selected in both (cluster ids are arbitrary per round; ARI is blind to their permutation; below 0,
 *   worse than chance, counts as 0).
 * The run stops when change < minChange once at least minRounds rounds are trained.
 */
import { PulError } from '../core/errors.js';

/** When PUL stops: after maxRounds, or when the pseudo-labelled selection changes less than minChange (after minRounds). */
export interface StopRule {
  /** change below which the pseudo-labelled selection counts as settled (default 0.01). */
  readonly minChange?: number;
  /** Rounds trained before the settled rule may end the run (default 1). */
  readonly minRounds?: number;
  readonly maxRounds: number;
}

/** A round's selected rows with their pseudo-labels (cluster ids ≥ 0). */
export interface LabelledRows {
  readonly indices: ArrayLike<number>;
  readonly labels: ArrayLike<number>;
}

/** How one round's pseudo-labelled selection differs from the previous round's. */
export interface SelectionChange {
  /** Selected now, not before. */
  readonly entered: number;
  /** Selected before, not now. */
  readonly left: number;
  /** Selected in both rounds. */
  readonly kept: number;
  /** Adjusted Rand index of the two labellings on the kept samples (1 when fewer than two are kept). */
  readonly ari: number;
  /** max((entered + left) / |union|, 1 − max(ari, 0)); 0 when both selections are empty. */
  readonly change: number;
}

/** Whether to stop after a round, and why. */
export interface StopDecision {
  readonly stop: boolean;
  readonly reason: 'stable' | 'maxRounds' | null;
}

const pairs = (n: number) => (n * (n - 1)) / 2;

/**
 * Adjusted Rand index of two labellings of the same samples, via the sparse contingency table: O(n).
 * 1 when the two partitions are identical up to renaming (also when both are trivial); ~0 for chance.
 * @example
 * adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]); // 1
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new PulError('option.invalid', `adjusted Rand index of ${n} and ${b.length} labels: the labellings must cover the same samples`, { option: 'labels' });
  if (n < 2) return 1;
  let width = 0;
  for (let i = 0; i < n; i++) width = Math.max(width, b[i]! + 1);
  const cells = new Map<number, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = a[i]! * width + b[i]!;
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rows.set(a[i]!, (rows.get(a[i]!) ?? 0) + 1);
    cols.set(b[i]!, (cols.get(b[i]!) ?? 0) + 1);
  }
  let index = 0;
  for (const c of cells.values()) index += pairs(c);
  let sa = 0;
  for (const c of rows.values()) sa += pairs(c);
  let sb = 0;
  for (const c of cols.values()) sb += pairs(c);
  const expected = (sa * sb) / pairs(n);
  const max = (sa + sb) / 2;
  // max = expected only when both partitions are all-in-one or all-singletons, i.e. identical
  return max === expected ? 1 : (index - expected) / (max - expected);
}

/**
 * How `current` differs from `previous` (see the module comment for the definition).
 * @example
 * selectionChange({ indices: [0, 1, 2, 3], labels: [0, 0, 1, 1] }, { indices: [0, 1, 2, 3], labels: [5, 5, 2, 2] }).change; // 0
 */
export function selectionChange(previous: LabelledRows, current: LabelledRows): SelectionChange {
  for (const s of [previous, current]) {
    if (s.indices.length !== s.labels.length) throw new PulError('selection.invalid', `a selection holds ${s.indices.length} rows but ${s.labels.length} labels`);
  }
  let size = 0;
  for (const s of [previous, current]) for (let i = 0; i < s.indices.length; i++) size = Math.max(size, s.indices[i]! + 1);
  const before = new Int32Array(size).fill(-1);
  for (let i = 0; i < previous.indices.length; i++) before[previous.indices[i]!] = previous.labels[i]!;
  const was: number[] = [];
  const now: number[] = [];
  for (let i = 0; i < current.indices.length; i++) {
    const label = before[current.indices[i]!]!;
    if (label < 0) continue;
    was.push(label);
    now.push(current.labels[i]!);
  }
  const kept = was.length;
  const entered = current.indices.length - kept;
  const left = previous.indices.length - kept;
  const union = kept + entered + left;
  const ari = adjustedRandIndex(was, now);
  return { entered, left, kept, ari, change: union === 0 ? 0 : Math.max((entered + left) / union, 1 - Math.max(ari, 0)) };
}

/** Throws `option.outOfRange` naming the stop.* key unless the rule's numbers are valid. */
export function validateStopRule(rule: StopRule): void {
  const minChange = rule.minChange ?? 0.01;
  if (!(minChange >= 0)) throw new PulError('option.outOfRange', `minChange=${minChange} must be ≥ 0 (stop.minChange)`, { option: 'stop.minChange' });
  for (const key of ['minRounds', 'maxRounds'] as const) {
    const v = rule[key] ?? 1;
    if (!Number.isInteger(v) || v < 1) throw new PulError('option.outOfRange', `${key}=${v} must be a whole number ≥ 1 (stop.${key})`, { option: `stop.${key}` });
  }
}

/**
 * Decides, with `roundsDone` rounds trained, whether to train no further. `change` is null when there
 * is no previous selection to compare with.
 * @example
 * shouldStop({ maxRounds: 25 }, 2, { entered: 0, left: 0, kept: 9, ari: 1, change: 0 }).reason; // 'stable'
 */
export function shouldStop(rule: StopRule, roundsDone: number, change: SelectionChange | null): StopDecision {
  validateStopRule(rule);
  if (roundsDone >= rule.maxRounds) return { stop: true, reason: 'maxRounds' };
  if (change !== null && roundsDone >= (rule.minRounds ?? 1) && change.change < (rule.minChange ?? 0.01)) return { stop: true, reason: 'stable' };
  return { stop: false, reason: null };
}

/** One line for logs and the run's end: "3.10 % (+4 −2, 1988 kept, label ARI 0.9712)". */
export function describeChange(c: SelectionChange): string {
  return `${(c.change * 100).toFixed(2)} % (+${c.entered} −${c.left}, ${c.kept} kept, label ARI ${c.ari.toFixed(4)})`;
}
