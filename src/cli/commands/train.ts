/**
 * `pul train --data PATH --out DIR`: supervised training on a labelled dataset (the PUL source model;
 * the authors train on the source set before PUL). Writes OUT/epoch-NNN checkpoints, OUT/latest.json
 * and OUT/metrics.jsonl; prints the closed-set accuracy on the labelled non-train images if any.
 */
import { mkdir, rmdir } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  AUGMENT_NAMES, CLASSIFIER_INITS, LOSSES, LOSS_NAMES, SAMPLER_NAMES, LR_SCHEDULE_TYPES, OPTIMIZER_TYPES, PulError, isPulError, lockDir, resolveLatest, parseClassList, parseDatasetFormat, prepareOutput, streamProgress, trainSupervised, type OutputKind,
  type AugmentName, type ClassifierInit, type DatasetFormat, type Normalization, type SamplerName,
} from '../../index.js';
import { withCtrlC } from '../ctrl-c.js';
import { activateBackend } from '../global-options.js';
import { parseAtLeast, parseChoice, parseInputSize, parseLoss, parseNormalization, parsePk, parseWhole, parseWith } from '../parse-options.js';
import { runAction, type FlagTable } from '../run-action.js';
import { allowOutsideOption, checkImagesOption, skipBadOption } from '../data-options.js';

interface TrainCliOptions {
  data: string;
  out: string;
  model: string;
  input?: { height: number; width: number; channels: 1 | 3 };
  featureLayer?: string;
  freeze?: boolean;
  embeddingDim?: number;
  hashBits?: number;
  classifierInit?: ClassifierInit;
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  optimizer: (typeof OPTIMIZER_TYPES)[number];
  schedule: (typeof LR_SCHEDULE_TYPES)[number];
  warmup: number;
  labelSmoothing: number;
  loss: string;
  margin?: number;
  sampler?: SamplerName;
  pk?: { p: number; k: number };
  dropout?: number;
  augment: AugmentName;
  normalize?: Normalization;
  seed: number;
  format?: DatasetFormat;
  classes?: number[];
  resume?: boolean;
  force?: boolean;
  json?: boolean;
  allowOutside?: boolean;
  check?: boolean;
  skipBad?: boolean;
}

/** A training folder of an earlier pul (no marker): latest.json, epoch-NNN checkpoints, metrics.jsonl. */
const legacyTrainRun = (entries: readonly string[]): Promise<OutputKind | null> =>
  Promise.resolve(entries.includes('latest.json') && entries.every((e) => e === 'latest.json' || e === 'metrics.jsonl' || /^epoch-\d+$/.test(e) || e.startsWith('.')) ? 'train' : null);

/** The option keys trainSupervised names in its errors → this command's flags. */
const FLAGS: FlagTable = {
  'model.name': '--model', 'model.input': '--input', 'model.featureLayer': '--feature-layer', 'model.embeddingDim': '--embedding-dim', 'model.hashBits': '--hash-bits', 'model.classifierInit': '--classifier-init',
  'model.dropout': '--dropout', 'model.normalization': '--normalize', 'training.epochs': '--epochs', 'training.batchSize': '--batch', 'optimizer.lr': '--lr', 'optimizer.momentum': '--momentum',
  'optimizer.weightDecay': '--weight-decay', 'optimizer.warmupEpochs': '--warmup', 'optimizer.schedule': '--schedule', 'data.format': '--format', 'data.classes': '--classes', resume: '--resume', force: '--force',
  loss: '--loss', margin: '--margin', sampler: '--sampler', pk: '--pk',
};

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a re-ID model on a labelled dataset (the PUL source model); checkpoints per epoch in --out')
    .requiredOption('--data <path>', 'dataset folder (or CSV manifest); layouts: see datasets/README.md')
    .requiredOption('--out <dir>', 'run folder: epoch-NNN checkpoints, latest.json, metrics.jsonl')
    .option('--model <name>', 'fmnist | reid | resnet18 | resnet34 (input size and channels follow the model), or layers:PATH — any tfjs LayersModel (its folder or model.json) as the backbone', 'reid')
    .option('--input <HxWxC>', 'input size, e.g. 128x64x3 (default: the preset\'s; required with layers:); images of another size are resized', parseInputSize('--input'))
    .option('--feature-layer <name>', 'layers: only — the layer whose output is the backbone feature (e.g. a ResNet-50\'s global pool)')
    .option('--freeze', 'layers: only — keep the loaded backbone\'s weights fixed')
    .option('--embedding-dim <d>', 'embedding (retrieval feature) size (default: the preset\'s; 128 with layers:)', parseWhole('--embedding-dim', 1))
    .option('--hash-bits <B>', 'a hash head: the embedding becomes B tanh units (replacing --embedding-dim), sign() of it a B-bit code (pul extract --binary); B a multiple of 8 in [8, 1024]', parseWhole('--hash-bits', 0))
    .option('--classifier-init <kind>', 'glorot | normal-0.001 (the original N(0, 0.001)) (default: the preset\'s; normal-0.001 with layers:)', parseChoice('--classifier-init', CLASSIFIER_INITS))
    .option('--epochs <n>', 'epochs', parseWhole('--epochs', 1), 40)
    .option('--batch <b>', 'batch size', parseWhole('--batch', 2), 64)
    .option('--lr <x>', 'learning rate', parseAtLeast('--lr', 0), 0.01)
    .option('--momentum <m>', 'SGD momentum', parseAtLeast('--momentum', 0), 0.9)
    .option('--weight-decay <w>', 'L2 weight decay', parseAtLeast('--weight-decay', 0), 5e-4)
    .option('--optimizer <kind>', 'sgd | adam', parseChoice('--optimizer', OPTIMIZER_TYPES), 'sgd')
    .option('--schedule <kind>', 'constant | cosine | step (×0.1 every 20 epochs)', parseChoice('--schedule', LR_SCHEDULE_TYPES), 'constant')
    .option('--warmup <epochs>', 'linear warm-up epochs', parseAtLeast('--warmup', 0), 0)
    .option('--dropout <p>', 'dropout before the classifier, in [0, 1) (default: the model preset\'s)', parseAtLeast('--dropout', 0))
    .option('--label-smoothing <e>', 'cross-entropy label smoothing ε', parseAtLeast('--label-smoothing', 0), 0)
    .option('--loss <spec>', `what training minimises: terms [weight*]name joined by + (e.g. ce+triplet-hard, lifted, ce+0.5*center); names: ${LOSS_NAMES.join(', ')}`, parseLoss('--loss'), 'ce')
    .option('--margin <m>', "margin of the margin losses (default each loss's own: triplet-hard 0.3, lifted 1)", parseAtLeast('--margin', 0))
    .option('--sampler <kind>', 'batch order: pk (P identities × K images), epoch (every image once), inverse-frequency, loss-guided, smart (triplets mined over the whole set with the model being trained, --batch a multiple of 4; README "Smart mining") (default: pk when the loss has a pair/triplet term, else epoch)', parseChoice('--sampler', SAMPLER_NAMES))
    .option('--pk <P,K>', 'P identities × K images per P×K batch (the batch size is then P·K, --batch applies to the other samplers); default 16,4', parsePk('--pk'))
    .option('--augment <kind>', 'none | reid (flip, pad-crop, erasing) | pul (rotation/shift, the authors\' Keras setting)', parseChoice('--augment', AUGMENT_NAMES), 'none')
    .option('--normalize <how>', 'pixel normalisation of x/255: unit | imagenet | MEAN/STD per channel, e.g. 0.286/0.353 (default: imagenet for RGB, unit for grey)', parseNormalization('--normalize'))
    .option('--seed <s>', 'random seed', parseWhole('--seed', 0), 1)
    .option('--format <layout>', 'dataset layout (default: detected)', parseWith('--format', parseDatasetFormat))
    .option('--classes <list>', 'IDX: keep only these labels, e.g. 0-4', parseWith('--classes', parseClassList))
    .addOption(allowOutsideOption())
    .addOption(checkImagesOption())
    .addOption(skipBadOption())
    .option('--resume', 'continue from OUT/latest.json (with the settings the run was started with)')
    .option('--force', 'with --resume: continue although the data set or settings differ from the run\'s')
    .option('--json', 'print a JSON summary')
    .addHelpText('after', `\nLosses (--loss, terms [weight*]name joined by +; P×K = the default batches are P identities × K images):\n${LOSS_NAMES.map((n) => `  ${n.padEnd(17)}${LOSSES[n].about}${LOSSES[n].sampler === 'pk' ? ' [P×K]' : ''}`).join('\n')}\n`)
    .action(
      runAction(async (opts: TrainCliOptions) => {
        if (opts.hashBits !== undefined && opts.embeddingDim !== undefined) {
          throw new PulError('option.invalid', `--hash-bits ${opts.hashBits} and --embedding-dim ${opts.embeddingDim}: the hash head's embedding is the code; give one of them`, { option: '--hash-bits' });
        }
        // before any work: --out is new, empty or a training run of pul's, apart from --data, and writable
        const out = await prepareOutput(opts.out, { kind: 'train', command: 'pul train', option: '--out', mode: 'grow', inputs: [{ path: opts.data, option: '--data' }], legacy: legacyTrainRun });
        if (opts.resume && (out.state === 'new' || out.state === 'empty')) throw new PulError('checkpoint.notFound', `--resume: ${opts.out} holds no latest.json to continue from`, { file: opts.out, option: '--out' });
        await activateBackend(program);
        const progress = streamProgress();
        if (out.state === 'new') await mkdir(out.dir, { recursive: true });
        const lock = await lockDir(out.dir, 'pul train', '--out');
        try {
          const r = await withCtrlC(progress, (signal) => trainSupervised({
            data: opts.data, format: opts.format, classes: opts.classes, allowOutside: opts.allowOutside, badImages: opts.skipBad ? 'skip' : opts.check ? 'check' : undefined, out: opts.out, output: out, resume: opts.resume, force: opts.force,
            model: { name: opts.model, input: opts.input, featureLayer: opts.featureLayer, freeze: opts.freeze, embeddingDim: opts.embeddingDim, hashBits: opts.hashBits, classifierInit: opts.classifierInit, dropout: opts.dropout },
            epochs: opts.epochs, batchSize: opts.batch,
            optimizer: { type: opts.optimizer, lr: opts.lr, momentum: opts.momentum, weightDecay: opts.weightDecay, warmupEpochs: opts.warmup, schedule: opts.schedule },
            labelSmoothing: opts.labelSmoothing, loss: opts.loss, margin: opts.margin, sampler: opts.sampler, pk: opts.pk, augment: opts.augment, normalization: opts.normalize, seed: opts.seed, signal, progress,
          }).catch(async (err: unknown) => {
            throw await withBadImageHint(err, opts);
          }));
          if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
          else process.stdout.write(`trained ${r.epochs.length} epochs in ${r.seconds.toFixed(1)} s${r.testAccuracy === null ? '' : `; closed-set accuracy on ${r.testImages} test images: ${r.testAccuracy.toFixed(4)}`}\ncheckpoint: ${r.checkpoint}\n`);
        } catch (err) {
          if (isPulError(err) && err.code === 'interrupted') throw new PulError(err.code, `${err.message}; the finished epochs are kept — continue with: ${resumeCommand()}`, { file: opts.out }, { cause: err });
          throw err;
        } finally {
          await lock.release();
          // a new folder that stayed empty (a refusal before any epoch) is not left behind; rmdir keeps a non-empty one
          if (out.state === 'new') await rmdir(out.dir).catch(() => undefined);
        }
      }, FLAGS),
    );
}

/** The command line that was typed, plus --resume: the same training, continued. */
function resumeCommand(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w./:=,@+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  return ['pul', ...args, ...(args.includes('--resume') ? [] : ['--resume'])].join(' ');
}

/** A corrupt or unreadable image met mid-training: say what to do, and how to continue from the saved epochs. */
async function withBadImageHint(err: unknown, opts: TrainCliOptions): Promise<unknown> {
  if (!isPulError(err) || (err.code !== 'image.corrupt' && err.code !== 'dataset.unreadable')) return err;
  const saved = await resolveLatest(opts.out).catch(() => null);
  const next = saved === null ? '' : `; finished epochs are kept (${saved}) — continue with: ${resumeCommand()}`;
  return new PulError(err.code, `${err.message}; fix or remove the file, or leave such images out with --skip-bad (--check lists them all first)${next}`, err.where ?? { file: opts.data }, { cause: err });
}
