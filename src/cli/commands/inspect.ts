/** `pul inspect RUN_DIR [--json]`: what a PUL run did, round by round, and the stage it would run next. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PulError, SKIPPED_IMAGES, describeCheckpoint, describeRun, formatCheckpointDescription, formatPulSummary, loadRunState, readSkippedImages, summarizePulRun } from '../../index.js';
import { runAction } from '../run-action.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show what a checkpoint holds (network, parameters, meta, files, integrity) or what a run folder holds: the per-round table (λ, clusters, selected, precision, mAP, rank-1, seconds per stage) and the next stage')
    .argument('<path>', 'a checkpoint folder (meta.json + model.json) or a run folder (run.json)')
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (target: string, opts: { json?: boolean }) => {
        if (existsSync(path.join(target, 'meta.json')) || (existsSync(path.join(target, 'model.json')) && !existsSync(path.join(target, 'run.json')))) {
          const d = await describeCheckpoint(target);
          process.stdout.write(opts.json ? `${JSON.stringify(d, null, 2)}\n` : formatCheckpointDescription(d));
          if (d.problems.length > 0) throw new PulError('checkpoint.corrupt', `${target} is damaged: ${d.problems.join('; ')}`, { file: target });
          return;
        }
        const state = await loadRunState(target);
        if (state === null) throw new PulError('state.invalid', `${target} holds neither meta.json (a checkpoint) nor run.json (a run folder)`, { file: target });
        const overview = describeRun(state);
        const summary = summarizePulRun(state);
        const skippedImages = await readSkippedImages(target);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...overview, summary, skippedImages }, null, 2)}\n`);
          return;
        }
        const next = overview.next ? `next: ${overview.next.stage} of ${overview.next.round === 0 ? 'setup' : `round ${overview.next.round}`} (pul run --resume ${target})` : 'nothing left to run';
        const skipped = skippedImages === null ? '' : `skipped images: ${skippedImages.length} that cannot be decoded (listed in ${path.join(target, SKIPPED_IMAGES)})\n`;
        process.stdout.write(`run ${overview.name} (${state.config.mode}; ${overview.method}), ${overview.finished ? `finished: ${overview.finished}` : next}\n${skipped}\n${formatPulSummary(summary)}`);
      }),
    );
}
