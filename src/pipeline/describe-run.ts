/** A run folder in words and tables: per round, each stage's seconds and what it reported; what comes next. */
import type { PipelineConfig } from '../config/schema.js';
import { nextStage, type RunState } from './state.js';

/** A run in rounds and stages, and what comes next. */
export interface RunOverview {
  readonly name: string;
  /** The method and its settings in words (`cluster-contrast: 20 epochs, τ 0.05, …`). */
  readonly method: string;
  readonly finished: string | null;
  readonly next: { readonly round: number; readonly stage: string } | null;
  /** One row per round (0 = setup): stage → { seconds, summary }. */
  readonly rounds: readonly { readonly round: number; readonly stages: Readonly<Record<string, { seconds: number; summary: Readonly<Record<string, unknown>> }>> }[];
}

/** The method of a configuration and its settings, in one line. */
export function describeMethod(c: PipelineConfig): string {
  if (c.method === 'pul') return `pul: k-means K=${c.clustering.k ?? '?'}, ${c.stop.maxRounds} rounds at most`;
  const cc = c.clusterContrast;
  return `cluster-contrast: ${cc.epochs} epochs${cc.passes === 1 ? "" : ` of ${cc.passes} passes`}${cc.itersPerEpoch === undefined ? '' : ` of ${cc.itersPerEpoch} steps`}, DBSCAN eps ${cc.eps}, minPts ${cc.minPts}, k1 ${cc.k1}, k2 ${cc.k2}; memory τ ${cc.temperature}, momentum ${cc.momentum}${cc.hard ? ' (hard)' : ' (mean)'}; P×K ${c.training.pk.p}×${c.training.pk.k}, ${c.training.optimizer.type} lr ${c.training.optimizer.lr}`;
}

/** A run's state as an overview for `pul inspect`. */
export function describeRun(state: RunState): RunOverview {
  const byRound = new Map<number, Record<string, { seconds: number; summary: Readonly<Record<string, unknown>> }>>();
  for (const r of state.completed) {
    const row = byRound.get(r.round) ?? {};
    row[r.stage] = { seconds: r.seconds, summary: r.summary };
    byRound.set(r.round, row);
  }
  return {
    name: state.config.name,
    method: describeMethod(state.config),
    finished: state.finished?.reason ?? null,
    next: nextStage(state),
    rounds: [...byRound.entries()].sort((a, b) => a[0] - b[0]).map(([round, stages]) => ({ round, stages })),
  };
}

const format = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v));

/** A text table: a row per round, the stages' seconds and their reported figures. */
export function formatRunOverview(o: RunOverview): string {
  const lines = [`run ${o.name} (${o.method}): ${o.finished ? `finished (${o.finished})` : o.next ? `next: ${o.next.stage} of ${o.next.round === 0 ? 'setup' : `round ${o.next.round}`}` : 'nothing left to run'}`];
  for (const { round, stages } of o.rounds) {
    const cells = Object.entries(stages).map(([stage, { seconds, summary }]) => {
      const figures = Object.entries(summary).map(([k, v]) => `${k} ${format(v)}`).join(', ');
      return `${stage} ${seconds.toFixed(1)}s${figures ? ` (${figures})` : ''}`;
    });
    lines.push(`${round === 0 ? 'setup' : `round ${round}`}: ${cells.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}
