/**
 * `pul run --unsupervised | --semi`: the PUL pipeline. A config file (or the built-in demo when no
 * config and no data are given), flags on top, `--resume RUNDIR` to continue a run; Ctrl-C stops at
 * the next batch boundary with the finished stages saved. Prints the per-round table (or, with
 * --json, one JSON object) at the end.
 */
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import {
  PulError, formatPulSummary, isPulError, loadRunState, mergeConfig, parseConfig, readConfigFile, runPul, streamProgress, type ConfigFlags, type PipelineConfig,
} from '../../index.js';
import { withCtrlC } from '../ctrl-c.js';
import { activateBackend } from '../global-options.js';
import { parseChoice, parseNumber, parseWhole } from '../parse-options.js';
import { inFlagTerms, runAction, type FlagTable } from '../run-action.js';
import { allowOutsideOption, checkImagesOption, skipBadOption } from '../data-options.js';

interface RunCliOptions {
  unsupervised?: boolean;
  semi?: boolean;
  method?: 'pul' | 'cluster-contrast';
  config?: string;
  source?: string;
  target?: string;
  labeled?: string;
  sourceCheckpoint?: string;
  model?: string;
  k?: number;
  lambda?: number;
  rounds?: number;
  epochs?: number;
  loss?: string;
  sampler?: string;
  seed?: number;
  out?: string;
  name?: string;
  resume?: string;
  force?: boolean;
  json?: boolean;
  check?: boolean;
  skipBad?: boolean;
  allowOutside?: boolean;
}

/** The demo configuration shipped with pul (used when neither --config nor data flags are given). */
export const DEMO_CONFIG = fileURLToPath(new URL('../../../../pipelines/demo.json', import.meta.url));
/** The demo with Cluster-Contrast (`--method cluster-contrast` and no config, no data flags). */
export const DEMO_CC_CONFIG = fileURLToPath(new URL('../../../../pipelines/demo-cc.json', import.meta.url));

type Plain = Record<string, unknown>;

/** Config keys → the flag of `pul run` that sets them, with the option attribute commander fills. */
const FLAGS: Readonly<Record<string, { flag: string; attr: keyof RunCliOptions }>> = {
  method: { flag: '--method', attr: 'method' },
  'data.source': { flag: '--source', attr: 'source' },
  'data.target': { flag: '--target', attr: 'target' },
  'data.labeled': { flag: '--labeled', attr: 'labeled' },
  'model.sourceCheckpoint': { flag: '--source-checkpoint', attr: 'sourceCheckpoint' },
  'model.name': { flag: '--model', attr: 'model' },
  'clustering.k': { flag: '--k', attr: 'k' },
  'selection.lambda': { flag: '--lambda', attr: 'lambda' },
  'stop.maxRounds': { flag: '--rounds', attr: 'rounds' },
  'training.epochsPerRound': { flag: '--epochs', attr: 'epochs' },
  'training.loss': { flag: '--loss', attr: 'loss' },
  'training.sampler': { flag: '--sampler', attr: 'sampler' },
  seed: { flag: '--seed', attr: 'seed' },
  out: { flag: '--out', attr: 'out' },
  name: { flag: '--name', attr: 'name' },
};

/** Each flag-settable key, its flag and whether this command line typed it. */
function configFlags(o: RunCliOptions): ConfigFlags {
  return Object.fromEntries(Object.entries(FLAGS).map(([key, f]) => [key, { flag: f.flag, typed: o[f.attr] !== undefined }]));
}

/** The typed flags as a FlagTable: a later library error about their keys names the flag. */
function typedFlags(o: RunCliOptions): FlagTable {
  return Object.fromEntries(Object.entries(FLAGS).filter(([, f]) => o[f.attr] !== undefined).map(([key, f]) => [key, f.flag]));
}

/** Flags → a partial configuration; data flags replace the whole data-set entry (its format, classes). */
function applyFlags(base: Plain, o: RunCliOptions): Plain {
  const data = { ...((base['data'] as Plain | undefined) ?? {}) };
  if (o.source !== undefined) data['source'] = { path: o.source };
  if (o.target !== undefined) data['target'] = { path: o.target };
  if (o.labeled !== undefined) data['labeled'] = { path: o.labeled };
  if (o.check) data['check'] = true;
  if (o.skipBad) data['skipBad'] = true;
  if (o.allowOutside) data['allowOutside'] = true;
  const overrides: Plain = {
    data,
    ...(o.semi ? { mode: 'semi' } : o.unsupervised ? { mode: 'unsupervised' } : {}),
    ...(o.method === undefined ? {} : { method: o.method }),
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    ...(o.out === undefined ? {} : { out: o.out }),
    ...(o.name === undefined ? {} : { name: o.name }),
    model: { ...(o.model === undefined ? {} : { name: o.model }), ...(o.sourceCheckpoint === undefined ? {} : { sourceCheckpoint: o.sourceCheckpoint }) },
    ...(o.k === undefined ? {} : { clustering: { k: o.k } }),
    ...(o.lambda === undefined ? {} : { selection: { lambda: { schedule: 'constant', value: o.lambda } } }),
    ...(o.rounds === undefined ? {} : { stop: { maxRounds: o.rounds } }),
    training: {
      ...(o.epochs === undefined ? {} : { epochsPerRound: o.epochs }),
      ...(o.loss === undefined ? {} : { loss: o.loss }),
      ...(o.sampler === undefined ? {} : { sampler: o.sampler }),
    },
  };
  return mergeConfig(base, overrides) as Plain;
}

async function resolveConfig(o: RunCliOptions): Promise<{ config: PipelineConfig; source: string }> {
  const dataFlags = o.source !== undefined || o.target !== undefined || o.labeled !== undefined;
  let file = o.config;
  let base: Plain = {};
  if (file === undefined && o.resume !== undefined) {
    const saved = await loadRunState(o.resume);
    if (saved === null) throw new PulError('state.invalid', `${o.resume} holds no run.json: not a pul run folder (--resume)`, { file: o.resume, option: '--resume' });
    base = saved.config;
  } else {
    if (file === undefined && !dataFlags) file = o.method === 'cluster-contrast' ? DEMO_CC_CONFIG : DEMO_CONFIG;
    if (file !== undefined) {
      base = await readConfigFile(file);
    }
  }
  const merged = applyFlags(base, o);
  if ((merged['data'] as Plain)['target'] === undefined) throw new PulError('option.invalid', 'no target data set: give --target PATH or a --config with data.target', { option: '--target' });
  const source = file ?? (o.resume ? `${o.resume}/run.json` : 'the command-line options');
  return { config: parseConfig(merged, source, configFlags(o)), source };
}

/** A library error about a config key that no flag set: the value came from the configuration `source`. */
function blameConfig(err: unknown, source: string): unknown {
  if (!isPulError(err) || err.where?.option === undefined || err.where.option.startsWith('--') || err.where.file !== undefined) return err;
  return new PulError(err.code, err.message, { ...err.where, file: source }, { cause: err });
}

/** An error that points at a run to resume (where.file, option resume): the command that continues it. */
function resumeHint(err: unknown): unknown {
  if (!isPulError(err) || err.where?.option !== '--resume' || err.where.file === undefined) return err;
  return new PulError(err.code, `${err.message} — continue with: pul run --resume ${err.where.file}`, err.where, { cause: err });
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run PUL: adapt a re-ID model to an unlabelled target, round by round (no options: the built-in demo)')
    .option('--unsupervised', 'source model → unlabelled target (the default mode)')
    .option('--semi', 'also train on a labelled part of the target every round (--labeled)')
    .option('--method <name>', "pul (k-means rounds, the default) | cluster-contrast (DBSCAN + cluster-memory contrastive epochs; see clusterContrast in the config)", parseChoice('--method', ['pul', 'cluster-contrast'] as const))
    .option('--config <file>', 'pipeline configuration (pipelines/*.json); flags below override it')
    .option('--source <path>', 'labelled source data set (trains the source model)')
    .option('--target <path>', 'target data set: its training images are used unlabelled')
    .option('--labeled <path>', 'semi mode: the labelled part of the target')
    .option('--source-checkpoint <dir>', 'start from this checkpoint instead of training on --source')
    .option('--model <name>', 'fmnist | reid | resnet18 | resnet34')
    .option('--k <K>', 'clusters (clustering.k)', parseWhole('--k', 1))
    .option('--lambda <λ>', 'constant selection threshold λ in [-1, 1]', parseNumber('--lambda'))
    .option('--rounds <N>', 'rounds at most (stop.maxRounds)', parseWhole('--rounds', 1))
    .option('--epochs <N>', 'fine-tuning epochs per round (training.epochsPerRound)', parseWhole('--epochs', 1))
    .option('--loss <spec>', "retraining loss (training.loss), e.g. ce+triplet-hard; names: see pul train --help")
    .option('--sampler <name>', 'retraining batch order (training.sampler): pk | epoch | inverse-frequency | loss-guided | smart')
    .option('--seed <S>', 'random seed', parseWhole('--seed', 0))
    .option('--out <dir>', 'folder for runs (default checkpoints)')
    .option('--name <name>', 'run name: outputs go to <out>/<name> (or <name>-2, … when taken)')
    .addOption(checkImagesOption())
    .addOption(skipBadOption())
    .addOption(allowOutsideOption())
    .option('--resume <rundir>', 'continue a run after a crash, kill or Ctrl-C, at its first unfinished stage')
    .option('--force', 'with --resume: accept a configuration that differs from the run\'s')
    .option('--json', 'end with one JSON object: baseline, per-round records, final figures')
    .action(
      runAction(async (opts: RunCliOptions) => {
        if (opts.semi && opts.unsupervised) throw new PulError('option.invalid', 'choose one of --unsupervised and --semi', { option: '--semi' });
        const { config, source } = await resolveConfig(opts);
        await activateBackend(program);
        const progress = streamProgress();
        const { runDir, summary } = await withCtrlC(progress, (signal) => runPul({ config, ...(opts.resume ? { resume: opts.resume } : {}), ...(opts.force ? { force: true } : {}), signal, progress })).catch((err: unknown) => {
          throw resumeHint(blameConfig(inFlagTerms(err, { ...typedFlags(opts), resume: '--resume', force: '--force' }), source));
        });
        if (opts.json) process.stdout.write(`${JSON.stringify({ runDir, config, ...summary })}\n`);
        else process.stdout.write(`\n${formatPulSummary(summary)}run folder: ${runDir} (pul inspect ${runDir})\n`);
      }),
    );
}
