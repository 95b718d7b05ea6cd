/**
 * The adaptive controller of smart mining (after Harwood et al., ICCV 2017: the mining
 * hyper-parameters follow the training instead of being fixed). Its input is the share s of mined
 * triplets with non-zero loss since the last index refresh; it keeps s inside a band around a target:
 *
 * - s < target − band (the triplets have become easy): mine harder — neighbourhood k ×2, margin ×γ,
 *   refresh interval ÷2 (fresh hard triplets sooner);
 * - s > target + band (most triplets violate the margin): ease off — k ÷2, margin ÷γ, interval ×2
 *   (the triplets still teach; the embedding pass costs time);
 * - otherwise nothing changes.
 *
 * Every parameter stays within its bounds. Pure and deterministic: the same shares give the same
 * trajectory, so the state saved with a checkpoint resumes it exactly.
 */
import { PulError } from '../core/errors.js';

/** The parameters the controller moves, and its pending input. */
export interface ControllerState {
  /** Neighbourhood size searched for each anchor's positive and negative. */
  readonly neighbours: number;
  /** Triplet margin m asked of the margin losses. */
  readonly margin: number;
  /** Steps between two refreshes of the embeddings and the index. */
  readonly interval: number;
}

/** Target, band, step factors and bounds of the controller. */
export interface ControllerOptions {
  /** Share of active triplets to keep; default 0.5. */
  readonly target: number;
  /** Half-width of the dead band around the target; default 0.1. */
  readonly band: number;
  /** Factor γ > 1 of a margin step; default 1.25. */
  readonly marginFactor: number;
  readonly minNeighbours: number;
  readonly maxNeighbours: number;
  readonly minMargin: number;
  readonly maxMargin: number;
  readonly minInterval: number;
  readonly maxInterval: number;
}

/** Defaults of the controller for an epoch of `stepsPerEpoch` steps: k in [4, 256], m in [0.05, 2], interval in [⌈steps/8⌉, steps]. */
export function defaultControllerOptions(stepsPerEpoch: number): ControllerOptions {
  return {
    target: 0.5,
    band: 0.1,
    marginFactor: 1.25,
    minNeighbours: 4,
    maxNeighbours: 256,
    minMargin: 0.05,
    maxMargin: 2,
    minInterval: Math.max(1, Math.ceil(stepsPerEpoch / 8)),
    maxInterval: Math.max(1, stepsPerEpoch),
  };
}

/** Checks the options (named errors) and that `state` lies within their bounds. */
export function validateController(opts: ControllerOptions, state: ControllerState): void {
  const bad = (key: string, why: string): never => {
    throw new PulError('option.outOfRange', `mining.${key}: ${why}`, { option: `mining.${key}` });
  };
  if (!(opts.target > 0 && opts.target < 1)) bad('target', `target share ${opts.target} must lie in (0, 1)`);
  if (!(opts.band >= 0 && opts.band < Math.min(opts.target, 1 - opts.target))) bad('band', `band ${opts.band} must be ≥ 0 and leave the band inside (0, 1) around target ${opts.target}`);
  if (!(opts.marginFactor > 1)) bad('marginFactor', `margin factor ${opts.marginFactor} must be > 1`);
  if (!(Number.isInteger(opts.minNeighbours) && opts.minNeighbours >= 1 && opts.maxNeighbours >= opts.minNeighbours)) bad('neighbours', `neighbourhood bounds [${opts.minNeighbours}, ${opts.maxNeighbours}] must be integers with 1 ≤ min ≤ max`);
  if (!(opts.minMargin > 0 && opts.maxMargin >= opts.minMargin)) bad('margin', `margin bounds [${opts.minMargin}, ${opts.maxMargin}] must satisfy 0 < min ≤ max`);
  if (!(Number.isInteger(opts.minInterval) && opts.minInterval >= 1 && opts.maxInterval >= opts.minInterval)) bad('interval', `interval bounds [${opts.minInterval}, ${opts.maxInterval}] must be integers with 1 ≤ min ≤ max`);
  if (!(Number.isInteger(state.neighbours) && state.neighbours >= opts.minNeighbours && state.neighbours <= opts.maxNeighbours)) bad('neighbours', `k=${state.neighbours} must be an integer in [${opts.minNeighbours}, ${opts.maxNeighbours}]`);
  if (!(state.margin >= opts.minMargin && state.margin <= opts.maxMargin)) bad('margin', `margin ${state.margin} must lie in [${opts.minMargin}, ${opts.maxMargin}]`);
  if (!(Number.isInteger(state.interval) && state.interval >= opts.minInterval && state.interval <= opts.maxInterval)) bad('interval', `interval ${state.interval} must be an integer in [${opts.minInterval}, ${opts.maxInterval}]`);
}

/** Which way the controller moved: −1 easier, 0 held, +1 harder. */
export function controllerDirection(share: number, opts: ControllerOptions): -1 | 0 | 1 {
  if (share < opts.target - opts.band) return 1;
  if (share > opts.target + opts.band) return -1;
  return 0;
}

/**
 * The parameters after observing active share `share` (in [0, 1]) over the last refresh period.
 *
 * @example
 * ```ts
 * const opts = defaultControllerOptions(100);
 * let state = { neighbours: 32, margin: 0.3, interval: 100 };
 * state = updateController(state, 0.1, opts); // too easy → { neighbours: 64, margin: 0.375, interval: 50 }
 * ```
 */
export function updateController(state: ControllerState, share: number, opts: ControllerOptions): ControllerState {
  if (!(share >= 0 && share <= 1)) throw new PulError('option.outOfRange', `active share ${share} must lie in [0, 1]`, { option: 'activeShare' });
  const dir = controllerDirection(share, opts);
  if (dir === 0) return state;
  const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  if (dir === 1) {
    return {
      neighbours: clamp(state.neighbours * 2, opts.minNeighbours, opts.maxNeighbours),
      margin: clamp(state.margin * opts.marginFactor, opts.minMargin, opts.maxMargin),
      interval: clamp(Math.ceil(state.interval / 2), opts.minInterval, opts.maxInterval),
    };
  }
  return {
    neighbours: clamp(Math.ceil(state.neighbours / 2), opts.minNeighbours, opts.maxNeighbours),
    margin: clamp(state.margin / opts.marginFactor, opts.minMargin, opts.maxMargin),
    interval: clamp(state.interval * 2, opts.minInterval, opts.maxInterval),
  };
}
