/**
 * What a PUL run achieved, from its run.json: the baseline, one row per round (λ, clusters, selected,
 * change of the selection, selection precision, mAP, rank-1, seconds per stage), the final and best
 * figures and the gain over the source model. Also the text table printed at the end of `pul run` and by `pul inspect`.
 */
import { formatLossSpec } from '../training/objective.js';
import { retrainingLoss, retrainingSampler } from './pul-session.js';
import { CLUSTER_CONTRAST_LOSS } from './contrast-stages.js';
import type { RunState } from './state.js';

/** One PUL round: λ, clusters, selected samples, selection change and precision, test figures, stage seconds. */
export interface RoundSummary {
  readonly round: number;
  readonly lambda?: number;
  readonly clusters?: number;
  readonly selected?: number;
  readonly of?: number;
  readonly precision?: number;
  /** The stop rule's change from the previous round's selection, and its parts (selection/stop-rule.ts). */
  readonly change?: number;
  readonly entered?: number;
  readonly left?: number;
  readonly ari?: number;
  readonly nmi?: number;
  readonly mAP?: number;
  readonly rank1?: number;
  readonly mINP?: number;
  /** Stage → seconds. */
  readonly seconds: Readonly<Record<string, number>>;
}

/** Test figures of one model: mAP, rank-1/5/10, mINP (and NMI when asked). */
export interface TestFigures {
  readonly mAP: number;
  readonly rank1: number;
  readonly rank5?: number;
  readonly mINP?: number;
  readonly nmi?: number;
}

/** A run's baseline, rounds and final figures. */
export interface PulRunSummary {
  readonly name: string;
  /** 'pul' or 'cluster-contrast' (config.method). */
  readonly method: string;
  readonly mode: string;
  /** The retraining's loss spec (training.loss, or ce+β*cluster from clusterLossWeight) and batch sampler. */
  readonly loss: string;
  readonly sampler: string;
  readonly finished: string | null;
  readonly baseline: TestFigures | null;
  readonly rounds: readonly RoundSummary[];
  /** The last evaluated round's figures (the baseline's when no round was evaluated). */
  readonly final: (TestFigures & { readonly round: number }) | null;
  readonly best: (TestFigures & { readonly round: number }) | null;
  /** final.mAP − baseline.mAP. */
  readonly gain: number | null;
  readonly totalSeconds: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function figures(summary: Readonly<Record<string, unknown>> | undefined): TestFigures | null {
  const mAP = num(summary?.['mAP']);
  const rank1 = num(summary?.['rank1']);
  if (mAP === undefined || rank1 === undefined) return null;
  const extra = { rank5: num(summary?.['rank5']), mINP: num(summary?.['mINP']), nmi: num(summary?.['nmi']) };
  return { mAP, rank1, ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)) };
}

/** The per-round table and final figures of a run, from its state. */
export function summarizePulRun(state: RunState): PulRunSummary {
  const find = (round: number, stage: string) => state.completed.find((r) => r.round === round && r.stage === stage)?.summary;
  const baseline = figures(find(0, 'baseline'));
  const contrast = state.config.method === 'cluster-contrast';
  const loss = contrast ? CLUSTER_CONTRAST_LOSS : retrainingLoss(state.config);
  // cluster-contrast: P×K batches of clusters drawn uniformly (src/datasets/cluster-sampler.ts)
  const sampler = contrast ? 'clusters' : retrainingSampler(state.config, loss);
  const roundNumbers = [...new Set(state.completed.map((r) => r.round).filter((r) => r > 0))].sort((a, b) => a - b);
  const rounds: RoundSummary[] = roundNumbers.map((round) => {
    const select = find(round, 'select');
    const cluster = find(round, 'cluster');
    const test = figures(find(round, 'evaluate'));
    const seconds = Object.fromEntries(state.completed.filter((r) => r.round === round).map((r) => [r.stage, r.seconds]));
    const fields = {
      lambda: num(select?.['lambda']),
      clusters: num(cluster?.['k']),
      selected: num(select?.['selected']),
      of: num(select?.['of']),
      precision: num(select?.['precision']),
      change: num(select?.['change']),
      entered: num(select?.['entered']),
      left: num(select?.['left']),
      ari: num(select?.['ari']),
      nmi: num(cluster?.['nmi']),
      mAP: test?.mAP,
      rank1: test?.rank1,
      mINP: test?.mINP,
    };
    return { round, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)), seconds };
  });
  const evaluated = roundNumbers.flatMap((round) => {
    const f = figures(find(round, 'evaluate'));
    return f === null ? [] : [{ ...f, round }];
  });
  const final = evaluated.at(-1) ?? (baseline === null ? null : { ...baseline, round: 0 });
  const best = [...(baseline === null ? [] : [{ ...baseline, round: 0 }]), ...evaluated].reduce<(TestFigures & { round: number }) | null>((b, r) => (b === null || r.mAP > b.mAP ? r : b), null);
  return {
    name: state.config.name,
    method: state.config.method,
    mode: state.config.mode,
    loss: formatLossSpec(loss),
    sampler: sampler === 'epoch' || sampler === 'smart' ? sampler : `${sampler} ${state.config.training.pk.p}×${state.config.training.pk.k}`,
    finished: state.finished?.reason ?? null,
    baseline,
    rounds,
    final,
    best,
    gain: final !== null && baseline !== null ? final.mAP - baseline.mAP : null,
    totalSeconds: state.completed.reduce((s, r) => s + r.seconds, 0),
  };
}

const f4 = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(4));

/** "2.10 % (+3 −1, ARI 0.979)": what the stop rule compared with minChange. */
function changeCell(r: RoundSummary): string {
  if (r.change === undefined) return '—';
  const parts = r.entered === undefined || r.left === undefined ? [] : [`+${r.entered} −${r.left}`];
  if (r.ari !== undefined) parts.push(`ARI ${r.ari.toFixed(3)}`);
  return `${(r.change * 100).toFixed(2)} %${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/** The per-round table (Markdown-compatible) and the closing lines. */
export function formatPulSummary(s: PulRunSummary): string {
  const stages = ['extract', 'cluster', 'select', 'train', 'evaluate'];
  const head = ['round', 'λ', 'clusters', 'selected', 'change', 'sel. precision', 'mAP', 'rank-1', ...stages.map((st) => `${st} s`)];
  const rows: string[][] = [];
  if (s.baseline) rows.push(['baseline', '', '', '', '', '', f4(s.baseline.mAP), f4(s.baseline.rank1), ...stages.map(() => '')]);
  for (const r of s.rounds) {
    rows.push([
      String(r.round),
      r.lambda === undefined ? '—' : String(r.lambda),
      r.clusters === undefined ? '—' : String(r.clusters),
      r.selected === undefined ? '—' : `${r.selected}${r.of === undefined ? '' : ` / ${r.of}`}`,
      changeCell(r),
      f4(r.precision),
      f4(r.mAP),
      f4(r.rank1),
      ...stages.map((st) => (r.seconds[st] === undefined ? '—' : r.seconds[st].toFixed(1))),
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
  if (s.final && s.baseline) {
    const gain = s.gain ?? 0;
    out.push('', `final (round ${s.final.round}): mAP ${f4(s.final.mAP)}, rank-1 ${f4(s.final.rank1)}${s.final.nmi === undefined ? '' : `, NMI ${f4(s.final.nmi)}`} — ${s.method === 'cluster-contrast' ? 'Cluster-Contrast' : 'PUL'} ${gain >= 0 ? 'gained' : 'lost'} ${Math.abs(gain * 100).toFixed(2)} mAP points over the source model (${f4(s.baseline.mAP)})`);
  }
  out.push(`retraining loss: ${s.loss}, sampler ${s.sampler}`);
  if (s.finished) out.push(`stopped: ${s.finished}; ${s.totalSeconds.toFixed(0)} s of stages`);
  return `${out.join('\n')}\n`;
}
