/** `pul inspect RUN_DIR [--json]`: what a PUL run did, round by round, and the stage it would run next. */
import type { Command } from 'commander';
import { PulError, describeRun, formatPulSummary, loadRunState, summarizePulRun } from '../../index.js';
import { runAction } from '../run-action.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show what a run folder holds: the per-round table (λ, clusters, selected, precision, mAP, rank-1, seconds per stage) and the next stage')
    .argument('<path>', 'a run folder (holding run.json)')
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (target: string, opts: { json?: boolean }) => {
        const state = await loadRunState(target);
        if (state === null) throw new PulError('state.invalid', `${target} holds no run.json: not a pul run folder`, { file: target });
        const overview = describeRun(state);
        const summary = summarizePulRun(state);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...overview, summary }, null, 2)}\n`);
          return;
        }
        const next = overview.next ? `next: ${overview.next.stage} of ${overview.next.round === 0 ? 'setup' : `round ${overview.next.round}`} (pul run --resume ${target})` : 'nothing left to run';
        process.stdout.write(`run ${overview.name} (${state.config.mode}), ${overview.finished ? `finished: ${overview.finished}` : next}\n\n${formatPulSummary(summary)}`);
      }),
    );
}
