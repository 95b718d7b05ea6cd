#!/usr/bin/env node
/**
 * The `pul` command line: a thin client of the library in src/index.ts. Each command lives in
 * commands/<name>.ts and registers itself on the program here.
 */
import { Command, CommanderError } from 'commander';
import { PACKAGE_VERSION, PulError } from '../index.js';
import { registerInfo } from './commands/info.js';
import { registerEval } from './commands/eval.js';
import { registerInspect } from './commands/inspect.js';
import { registerExtract } from './commands/extract.js';
import { registerDatasets } from './commands/datasets.js';
import { registerTrain } from './commands/train.js';
import { registerCluster } from './commands/cluster.js';
import { registerSelect } from './commands/select.js';
import { registerRun } from './commands/run.js';
import { registerReport } from './commands/report.js';
import { registerIndex } from './commands/index-gallery.js';
import { registerSearch } from './commands/search.js';
import { registerServe } from './commands/serve.js';
import { reportError } from './run-action.js';

const COMMANDS: readonly ((program: Command) => void)[] = [registerRun, registerInfo, registerExtract, registerEval, registerInspect, registerDatasets, registerCluster, registerSelect, registerTrain, registerReport, registerIndex, registerSearch, registerServe];

export function buildProgram(): Command {
  const program = new Command('pul')
    .description('Progressive Unsupervised Learning for person re-identification: adapt a re-ID model to an unlabelled camera network')
    .version(PACKAGE_VERSION)
    .option('--backend <name>', 'compute backend: auto|tfjs-node-gpu|tfjs-node|wasm|cpu (default: $PUL_BACKEND or auto)')
    .showHelpAfterError()
    // commander's own usage errors (unknown option or command, missing argument) in the PulError format
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'pul: error [option.invalid]: ')) })
    .exitOverride(); // usage errors exit with 2 (see below), not commander's 1
  for (const register of COMMANDS) register(program);
  for (const command of program.commands) requireInAction(command);
  return program;
}

/**
 * commander checks required options before unknown ones (`cluster --bogus` said "--features not
 * specified"); checked in a preAction hook instead, a typo is reported first and a missing option is
 * a PulError like every other usage error.
 */
function requireInAction(command: Command): void {
  const required = command.options.filter((o) => o.mandatory);
  for (const o of required) o.mandatory = false;
  if (required.length === 0) return;
  command.hook('preAction', (cmd) => {
    const missing = required.filter((o) => cmd.getOptionValue(o.attributeName()) === undefined).map((o) => o.long ?? o.flags);
    if (missing.length > 0) throw new PulError('option.invalid', `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} needed (pul ${cmd.name()} --help)`, { option: missing[0]! });
  });
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // commander has printed the message (or the help / version)
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    reportError(err);
  });
