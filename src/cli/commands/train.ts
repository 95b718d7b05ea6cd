/**
 * `pul train --data PATH --out DIR`: supervised training on a labelled dataset (the PUL source model;
 * the authors train on the source set before PUL). Writes OUT/epoch-NNN checkpoints, OUT/latest.json
 * and OUT/metrics.jsonl; prints the closed-set accuracy on the labelled non-train images if any.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import {
  buildModel, CLASSIFIER_INIT_OPTIONS, classifierInitKind, datasetBatchSource, disposeModel, ImageReader, loadDataset, modelSpecFor, parseClassList, parseDatasetFormat, PUL_KERAS_AUGMENT, REID_AUGMENT,
  resolveLatest, Rng, screenImages, streamProgress, tf, trainResumable, PulError, writeSkippedImages, isPulError, prepareOutput, claimOutputDir, lockDir, readCheckpoint, checkResumeSettings, type OutputKind, type PreparedOutput,
  type AugmentOptions, type ClassifierInitOption, type DatasetFormat, type ModelSpec, type Normalization, type ReidModel, type Sample,
} from '../../index.js';
import { activateBackend } from '../global-options.js';
import { parseAtLeast, parseChoice, parseInputSize, parseNormalization, parseWhole } from '../parse-options.js';
import { runAction } from '../run-action.js';
import { allowOutsideOption, checkImagesOption, datasetLoadOptions, skipBadOption } from '../data-options.js';

interface TrainCliOptions {
  data: string;
  out: string;
  model: string;
  input?: { height: number; width: number; channels: 1 | 3 };
  featureLayer?: string;
  freeze?: boolean;
  embeddingDim?: number;
  classifierInit?: ClassifierInitOption;
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  optimizer: 'sgd' | 'adam';
  schedule: 'constant' | 'cosine' | 'step';
  warmup: number;
  labelSmoothing: number;
  dropout?: number;
  augment: 'none' | 'reid' | 'pul';
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

const AUGMENTS: Record<TrainCliOptions['augment'], AugmentOptions | undefined> = { none: undefined, reid: REID_AUGMENT, pul: PUL_KERAS_AUGMENT };

/** Contiguous class indices 0..K−1 for the sorted distinct pids. */
function labelMap(samples: readonly Sample[]): Map<number, number> {
  const pids = [...new Set(samples.map((s) => s.pid as number))].sort((a, b) => a - b);
  return new Map(pids.map((p, i) => [p, i]));
}

async function closedSetAccuracy(model: ReidModel, samples: readonly Sample[], labels: Int32Array, normalize: Normalization, reader: ImageReader): Promise<number> {
  const source = datasetBatchSource(samples, labels, { ...model.spec.input, normalize, reader, batchSize: 256, seed: 0, dropLast: false });
  let correct = 0;
  let total = 0;
  for await (const b of source.batches(0)) {
    const pred = tf.tidy(() => tf.argMax((model.net.predict(tf.tensor4d(b.pixels, [...b.shape])) as tf.Tensor[])[1]!, 1));
    const p = await pred.data();
    pred.dispose();
    for (let i = 0; i < b.labels.length; i++) if (p[i] === b.labels[i]) correct++;
    total += b.labels.length;
  }
  return total > 0 ? correct / total : Number.NaN;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a re-ID model on a labelled dataset (the PUL source model); checkpoints per epoch in --out')
    .requiredOption('--data <path>', 'dataset folder (or CSV manifest); layouts: see datasets/README.md')
    .requiredOption('--out <dir>', 'run folder: epoch-NNN checkpoints, latest.json, metrics.jsonl')
    .option('--model <name>', 'fmnist | reid | resnet18 | resnet34 (input size and channels follow the model), or layers:PATH — any tfjs LayersModel (its folder or model.json) as the backbone', 'reid')
    .option('--input <HxWxC>', 'input size, e.g. 128x64x3 (default: the preset\'s; required with layers:); images of another size are resized', parseInputSize)
    .option('--feature-layer <name>', 'layers: only — the layer whose output is the backbone feature (e.g. a ResNet-50\'s global pool)')
    .option('--freeze', 'layers: only — keep the loaded backbone\'s weights fixed')
    .option('--embedding-dim <d>', 'embedding (retrieval feature) size (default: the preset\'s; 128 with layers:)', parseWhole('--embedding-dim', 1))
    .option('--classifier-init <kind>', 'glorot | normal-0.001 (the original N(0, 0.001)) (default: the preset\'s; normal-0.001 with layers:)', parseChoice(CLASSIFIER_INIT_OPTIONS))
    .option('--epochs <n>', 'epochs', parseWhole('--epochs', 1), 40)
    .option('--batch <b>', 'batch size', parseWhole('--batch', 2), 64)
    .option('--lr <x>', 'learning rate', parseAtLeast('--lr', 0), 0.01)
    .option('--momentum <m>', 'SGD momentum', parseAtLeast('--momentum', 0), 0.9)
    .option('--weight-decay <w>', 'L2 weight decay', parseAtLeast('--weight-decay', 0), 5e-4)
    .option('--optimizer <kind>', 'sgd | adam', parseChoice(['sgd', 'adam'] as const), 'sgd')
    .option('--schedule <kind>', 'constant | cosine | step (×0.1 every 20 epochs)', parseChoice(['constant', 'cosine', 'step'] as const), 'constant')
    .option('--warmup <epochs>', 'linear warm-up epochs', parseAtLeast('--warmup', 0), 0)
    .option('--dropout <p>', 'dropout before the classifier, in [0, 1) (default: the model preset\'s)', parseAtLeast('--dropout', 0))
    .option('--label-smoothing <e>', 'cross-entropy label smoothing ε', parseAtLeast('--label-smoothing', 0), 0)
    .option('--augment <kind>', 'none | reid (flip, pad-crop, erasing) | pul (rotation/shift, the authors\' Keras setting)', parseChoice(['none', 'reid', 'pul'] as const), 'none')
    .option('--normalize <how>', 'pixel normalisation of x/255: unit | imagenet | MEAN/STD per channel, e.g. 0.286/0.353 (default: imagenet for RGB, unit for grey)', parseNormalization)
    .option('--seed <s>', 'random seed', parseWhole('--seed', 0), 1)
    .option('--format <layout>', 'dataset layout (default: detected)', parseDatasetFormat)
    .option('--classes <list>', 'IDX: keep only these labels, e.g. 0-4', parseClassList)
    .addOption(allowOutsideOption())
    .addOption(checkImagesOption())
    .addOption(skipBadOption())
    .option('--resume', 'continue from OUT/latest.json (with the settings the run was started with)')
    .option('--force', 'with --resume: continue although the data set or settings differ from the run\'s')
    .option('--json', 'print a JSON summary')
    .action(
      runAction(async (opts: TrainCliOptions) => {
        if (opts.dropout !== undefined && opts.dropout >= 1) throw new PulError('option.outOfRange', `--dropout ${opts.dropout} is not in [0, 1)`, { option: '--dropout' });
        // before any work: --out is new, empty or a training run of pul's, apart from --data, and writable
        const out = await prepareOutput(opts.out, { kind: 'train', command: 'pul train', option: '--out', mode: 'grow', inputs: [{ path: opts.data, option: '--data' }], legacy: legacyTrainRun });
        if (opts.resume && (out.state === 'new' || out.state === 'empty')) throw new PulError('checkpoint.notFound', `--resume: ${opts.out} holds no latest.json to continue from`, { file: opts.out, option: '--out' });
        await activateBackend(program);
        const reader = new ImageReader();
        const dataset = await loadDataset(opts.data, { reader, ...datasetLoadOptions(opts) });
        // --check / --skip-bad: every image this command reads (training and test) decoded before any training
        const { kept: samples, skipped } =
          opts.check || opts.skipBad
            ? await screenImages(dataset.samples, opts.skipBad ? 'skip' : 'check', { reader, progress: streamProgress(), hint: 'leave them out with --skip-bad, or fix or remove the files' })
            : { kept: dataset.samples, skipped: [] };
        const train = samples.filter((s) => s.split === 'train' && s.pid !== null);
        if (train.length === 0) throw new PulError('dataset.empty', `${opts.data}: no labelled training images`, { file: opts.data });
        const classes = labelMap(train);
        const labels = Int32Array.from(train, (s) => classes.get(s.pid as number)!);
        const classifierInit = opts.classifierInit === undefined ? undefined : classifierInitKind(opts.classifierInit);
        const spec = modelSpecFor({ name: opts.model, input: opts.input, featureLayer: opts.featureLayer, freeze: opts.freeze, embeddingDim: opts.embeddingDim, classifierInit, dropout: opts.dropout }, classes.size);
        const normalization = opts.normalize ?? (spec.input.channels === 3 ? 'imagenet' : 'unit');
        if (typeof normalization === 'object' && normalization.mean.length !== spec.input.channels) {
          throw new PulError('option.invalid', `--normalize gives ${normalization.mean.length} channel(s); model ${opts.model} takes ${spec.input.channels}`, { option: '--normalize' });
        }
        const latest = await resolveLatest(opts.out);
        if (latest !== null && !opts.resume) throw new PulError('state.invalid', `${opts.out} holds a training run (${latest}); pass --resume to continue it, or choose another --out`, { file: opts.out, option: '--out' });
        if (latest === null && opts.resume) throw new PulError('checkpoint.notFound', `--resume: ${opts.out} holds no latest.json to continue from`, { file: opts.out, option: '--out' });
        if (out.state === 'new') await mkdir(out.dir, { recursive: true });
        const lock = await lockDir(out.dir, 'pul train', '--out');
        try {
          await trainInto(opts, { samples, skipped, train, classes, labels, spec, normalization, reader, latest, out });
        } finally {
          await lock.release();
        }
      }),
    );
}

/** A corrupt or unreadable image met mid-training: say what to do, and how to continue from the saved epochs. */
async function withBadImageHint(err: unknown, opts: TrainCliOptions): Promise<unknown> {
  if (!isPulError(err) || (err.code !== 'image.corrupt' && err.code !== 'dataset.unreadable')) return err;
  const saved = await resolveLatest(opts.out).catch(() => null);
  const again = `pul ${process.argv.slice(2).join(' ')}${opts.resume ? '' : ' --resume'}`;
  const next = saved === null ? '' : `; finished epochs are kept (${saved}) — continue with: ${again}`;
  return new PulError(err.code, `${err.message}; fix or remove the file, or leave such images out with --skip-bad (--check lists them all first)${next}`, err.where ?? { file: opts.data }, { cause: err });
}

interface TrainInputs {
  /** The data set's samples less those skipped (--skip-bad). */
  readonly samples: readonly Sample[];
  readonly skipped: readonly Sample[];
  readonly train: readonly Sample[];
  readonly classes: Map<number, number>;
  readonly labels: Int32Array;
  readonly spec: ModelSpec;
  readonly normalization: Normalization;
  readonly reader: ImageReader;
  /** The checkpoint to continue from (--resume), else null. */
  readonly latest: string | null;
  readonly out: PreparedOutput;
}

/** Trains into the locked --out folder; on --resume the settings must be the run's (or --force). */
async function trainInto(opts: TrainCliOptions, { samples, skipped, train, classes, labels, spec, normalization, reader, latest, out }: TrainInputs): Promise<void> {
  const progress = streamProgress();
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  const optimizer = {
    kind: opts.optimizer,
    lr: opts.lr,
    momentum: opts.momentum,
    weightDecay: opts.weightDecay,
    warmupEpochs: opts.warmup,
    schedule: opts.schedule === 'step' ? ({ kind: 'step', everyEpochs: 20, gamma: 0.1 } as const) : ({ kind: opts.schedule } as const),
  };
  // what --resume compares (all but epochs): the data set (path, filter, size) and every setting
  const training = {
    ...optimizer, epochs: opts.epochs, batch: opts.batch, seed: opts.seed, labelSmoothing: opts.labelSmoothing, augment: opts.augment, dropout: spec.dropout,
    data: path.resolve(opts.data), format: opts.format ?? null, classes: opts.classes ?? null, dataset: { images: train.length, identities: classes.size },
    model: opts.model, input: spec.input, embeddingDim: spec.embeddingDim, normalization, ...(skipped.length > 0 ? { skippedImages: skipped.length } : {}),
  };
  if (latest !== null) {
    const saved = (await readCheckpoint(latest)).manifest.training;
    const changed = checkResumeSettings(saved, training, { dir: opts.out, what: 'training configuration', force: opts.force ?? false, ignore: ['epochs'] });
    if (changed.length > 0) progress.log(`--force: continuing ${opts.out} with changed settings (${changed.join(', ')})`);
  }
  await claimOutputDir(out); // the marker, once nothing is left to refuse
  if (skipped.length > 0) progress.log(`skipping ${skipped.length} image(s) that cannot be decoded (first: ${skipped[0]!.path}), listed in ${await writeSkippedImages(opts.out, skipped)}`);
  const augment = AUGMENTS[opts.augment];
  progress.log(`train: ${train.length} images, ${classes.size} classes, model ${opts.model} (${spec.input.height}×${spec.input.width}×${spec.input.channels}), ${opts.epochs} epochs of ${Math.floor(train.length / opts.batch)} batches`);
  const started = performance.now();
  try {
    const { model, records } = await trainResumable({
      workDir: opts.out,
      initialModel: () => buildModel(spec, new Rng(opts.seed)),
      expect: { architecture: spec.architecture, input: spec.input },
      samples: train,
      labels,
      epochs: opts.epochs,
      batchSize: opts.batch,
      optimizer,
      seed: opts.seed,
      normalization,
      labelSmoothing: opts.labelSmoothing,
      ...(augment ? { augment } : {}),
      reader,
      meta: { training, state: { classes: [...classes.keys()] } },
      keepEpochs: 'all',
      tag: 'train',
      signal: controller.signal,
      progress,
    }).catch(async (err: unknown) => {
      throw await withBadImageHint(err, opts);
    });
    try {
      const seconds = (performance.now() - started) / 1000;
      const test = samples.filter((s) => s.split !== 'train' && s.pid !== null && classes.has(s.pid));
      const accuracy = test.length > 0 ? await closedSetAccuracy(model, test, Int32Array.from(test, (s) => classes.get(s.pid as number)!), normalization, reader) : null;
      const summary = { epochs: records, seconds, testImages: test.length, testAccuracy: accuracy, skippedImages: skipped.length, checkpoint: await resolveLatest(opts.out) };
      if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else process.stdout.write(`trained ${records.length} epochs in ${seconds.toFixed(1)} s${accuracy === null ? '' : `; closed-set accuracy on ${test.length} test images: ${accuracy.toFixed(4)}`}\ncheckpoint: ${summary.checkpoint}\n`);
    } finally {
      disposeModel(model);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
