/**
 * A run's figures as curves, read from its run.json (every finished stage and what it reported) and
 * from the per-epoch logs its trainings left (`train-epochs.jsonl`). Stages are recognised by the
 * figures they report, not by name, so runs of other methods (cluster-contrast: a round per epoch,
 * `noise` beside the clusters) give the same curves.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunState } from '../pipeline/state.js';
import { roundName } from '../pipeline/pul-session.js';
import { EPOCH_LOG } from '../pipeline/resumable-training.js';

/** One point of a curve: x is the round (0 = before the first round: the source model). */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** A named curve with its points in x order. */
export interface Series {
  readonly name: string;
  readonly points: readonly Point[];
}

/** One training epoch's loss: x counts epochs over the whole run, `round` tells which training. */
export interface EpochPoint extends Point {
  readonly round: number;
  readonly epoch: number;
}

/** The curves of a run's report. */
export interface RunSeries {
  /** Rounds that finished their last stage. */
  readonly rounds: number;
  readonly mAP: Series;
  readonly rank1: Series;
  readonly selected: Series;
  readonly precision: Series;
  readonly lambda: Series;
  readonly clusters: Series;
  /** Points left unlabelled (−1) by a density method; empty for k-means. */
  readonly noise: Series;
  readonly loss: { readonly name: string; readonly points: readonly EpochPoint[] };
  /** Seconds per stage and round (round 0: setup). */
  readonly seconds: readonly { readonly round: number; readonly stage: string; readonly seconds: number }[];
}

const numberOf = (summary: Readonly<Record<string, unknown>>, ...keys: string[]): number | null => {
  for (const key of keys) {
    const v = summary[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
};

/** The curve of one figure: at most one point per round, the first stage reporting it. */
function seriesOf(state: RunState, name: string, pick: (stage: string, summary: Readonly<Record<string, unknown>>) => number | null): Series {
  const byRound = new Map<number, number>();
  for (const r of state.completed) {
    const y = pick(r.stage, r.summary);
    if (y !== null && !byRound.has(r.round)) byRound.set(r.round, y);
  }
  return { name, points: [...byRound].sort((a, b) => a[0] - b[0]).map(([x, y]) => ({ x, y })) };
}

/**
 * The curves of a run: mAP and rank-1 per round (round 0: the source model), the selection (count,
 * precision, λ), the clusters (and noise), the training loss per epoch, the seconds of every stage.
 * @example
 * const series = await readRunSeries('checkpoints/demo', state);
 * series.mAP.points; // [{ x: 0, y: 0.1577 }, { x: 1, y: 0.2672 }, …]
 */
export async function readRunSeries(runDir: string, state: RunState): Promise<RunSeries> {
  const rounds = Math.max(0, ...state.completed.filter((r) => r.round > 0 && r.stage === state.plan.round.at(-1)).map((r) => r.round));
  const loss: EpochPoint[] = [];
  const trained = [...new Set(state.completed.filter((r) => numberOf(r.summary, 'loss') !== null).map((r) => r.round))].sort((a, b) => a - b);
  for (const round of trained) {
    const epochs = await readEpochLog(path.join(runDir, round === 0 ? 'source' : roundName(round), EPOCH_LOG));
    // runs written before the per-epoch log: the training's last loss as the round's one point
    const points = epochs.length > 0 ? epochs : [{ epoch: 1, loss: numberOf(state.completed.find((r) => r.round === round && numberOf(r.summary, 'loss') !== null)!.summary, 'loss')! }];
    for (const e of points) loss.push({ x: loss.length + 1, y: e.loss, round, epoch: e.epoch });
  }
  return {
    rounds,
    mAP: seriesOf(state, 'mAP', (_, s) => numberOf(s, 'mAP')),
    rank1: seriesOf(state, 'rank-1', (_, s) => numberOf(s, 'rank1')),
    selected: seriesOf(state, 'selected', (_, s) => numberOf(s, 'selected')),
    precision: seriesOf(state, 'selection precision', (_, s) => (numberOf(s, 'selected') === null ? null : numberOf(s, 'precision'))),
    lambda: seriesOf(state, 'λ', (_, s) => (numberOf(s, 'selected') === null ? null : numberOf(s, 'lambda'))),
    clusters: seriesOf(state, 'clusters', (stage, s) => (stage.startsWith('cluster') ? numberOf(s, 'clusters', 'k') : null)),
    noise: seriesOf(state, 'noise', (stage, s) => (stage.startsWith('cluster') ? numberOf(s, 'noise') : null)),
    loss: { name: 'training loss', points: loss },
    seconds: state.completed.map((r) => ({ round: r.round, stage: r.stage, seconds: r.seconds })),
  };
}

/** The epochs of a train-epochs.jsonl ({ epoch, loss } per line); none when the file is absent. */
async function readEpochLog(file: string): Promise<{ epoch: number; loss: number }[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const epochs = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const record = JSON.parse(line) as { epoch?: unknown; loss?: unknown };
      // a resumed training logs an epoch again: the last line of each epoch wins
      if (typeof record.epoch === 'number' && typeof record.loss === 'number') epochs.set(record.epoch, record.loss);
    } catch {
      // a line cut by a crash: the report shows the others
    }
  }
  return [...epochs].sort((a, b) => a[0] - b[0]).map(([epoch, loss]) => ({ epoch, loss }));
}
