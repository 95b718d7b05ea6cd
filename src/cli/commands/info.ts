/** `pul info [--json] [--backend B]`: which compute backend pul uses here, and why not a faster one. */
import type { Command } from 'commander';
import { describeBackend } from '../../index.js';
import { activateBackend } from '../global-options.js';
import { runAction } from '../run-action.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the compute backend chosen here, why each faster one was not used, tfjs version, SIMD/threads, CPUs')
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (opts: { json?: boolean }) => {
        const info = await activateBackend(program);
        process.stdout.write(opts.json ? `${JSON.stringify(info, null, 2)}\n` : describeBackend(info));
      }),
    );
}
