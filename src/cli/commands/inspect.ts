/** `pul inspect RUN_DIR [--json]`: what a PUL run did, round by round, and the stage it would run next. */
import type { Command } from 'commander';
import { PulError, describeRun, formatRunOverview, loadRunState } from '../../index.js';
import { runAction } from '../run-action.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show what a run folder holds: per round the stages, their seconds and figures, and the next stage')
    .argument('<path>', 'a run folder (holding run.json)')
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (target: string, opts: { json?: boolean }) => {
        const state = await loadRunState(target);
        if (state === null) throw new PulError('state.invalid', `${target} holds no run.json: not a pul run folder`, { file: target });
        const overview = describeRun(state);
        process.stdout.write(opts.json ? `${JSON.stringify(overview, null, 2)}\n` : formatRunOverview(overview));
      }),
    );
}
