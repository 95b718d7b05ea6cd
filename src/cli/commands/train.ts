/**
 * `pul train --data PATH --out DIR`: supervised training on a labelled dataset (the PUL source model;
 * the authors train on the source set before PUL). Writes OUT/epoch-NNN checkpoints, OUT/latest.json
 * and OUT/metrics.jsonl; prints the closed-set accuracy on the labelled non-train images if any.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  buildModel, datasetBatchSource, disposeModel, ImageReader, loadCheckpoint, loadDataset, loadOptimizerState, modelPreset, parseClassList, parseDatasetFormat,
  PUL_KERAS_AUGMENT, REID_AUGMENT, resolveLatest, Rng, saveCheckpoint, streamProgress, tf, Trainer, writeLatest, PulError,
  type AugmentOptions, type DatasetFormat, type ReidModel, type Sample,
} from '../../index.js';
import { activateBackend } from '../global-options.js';
import { parseChoice } from '../parse-options.js';
import { runAction } from '../run-action.js';

interface TrainCliOptions {
  data: string;
  out: string;
  model: string;
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
  seed: number;
  format?: DatasetFormat;
  classes?: number[];
  resume?: boolean;
  json?: boolean;
}

const AUGMENTS: Record<TrainCliOptions['augment'], AugmentOptions | undefined> = { none: undefined, reid: REID_AUGMENT, pul: PUL_KERAS_AUGMENT };

function parseNumber(min: number, integer: boolean): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) throw new InvalidArgumentError(`"${value}" is not ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
    return v;
  };
}

/** Contiguous class indices 0..K−1 for the sorted distinct pids. */
function labelMap(samples: readonly Sample[]): Map<number, number> {
  const pids = [...new Set(samples.map((s) => s.pid as number))].sort((a, b) => a - b);
  return new Map(pids.map((p, i) => [p, i]));
}

async function closedSetAccuracy(model: ReidModel, samples: readonly Sample[], labels: Int32Array, batchSize: number): Promise<number> {
  const source = datasetBatchSource(samples, labels, { ...model.spec.input, batchSize: Math.max(2, batchSize), seed: 0, dropLast: false });
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
    .option('--model <name>', 'fmnist | reid | resnet18 | resnet34 (input size and channels follow the model)', 'reid')
    .option('--epochs <n>', 'epochs', parseNumber(1, true), 40)
    .option('--batch <b>', 'batch size', parseNumber(2, true), 64)
    .option('--lr <x>', 'learning rate', parseNumber(0, false), 0.01)
    .option('--momentum <m>', 'SGD momentum', parseNumber(0, false), 0.9)
    .option('--weight-decay <w>', 'L2 weight decay', parseNumber(0, false), 5e-4)
    .option('--optimizer <kind>', 'sgd | adam', parseChoice(['sgd', 'adam'] as const), 'sgd')
    .option('--schedule <kind>', 'constant | cosine | step (×0.1 every 20 epochs)', parseChoice(['constant', 'cosine', 'step'] as const), 'constant')
    .option('--warmup <epochs>', 'linear warm-up epochs', parseNumber(0, false), 0)
    .option('--dropout <p>', 'dropout before the classifier, in [0, 1) (default: the model preset\'s)', parseNumber(0, false))
    .option('--label-smoothing <e>', 'cross-entropy label smoothing ε', parseNumber(0, false), 0)
    .option('--augment <kind>', 'none | reid (flip, pad-crop, erasing) | pul (rotation/shift, the authors\' Keras setting)', parseChoice(['none', 'reid', 'pul'] as const), 'none')
    .option('--seed <s>', 'random seed', parseNumber(0, true), 1)
    .option('--format <layout>', 'dataset layout (default: detected)', parseDatasetFormat)
    .option('--classes <list>', 'IDX: keep only these labels, e.g. 0-4', parseClassList)
    .option('--resume', 'continue from OUT/latest.json')
    .option('--json', 'print a JSON summary')
    .action(
      runAction(async (opts: TrainCliOptions) => {
        await activateBackend(program);
        const reader = new ImageReader();
        const dataset = await loadDataset(opts.data, { reader, ...(opts.format ? { format: opts.format } : {}), ...(opts.classes ? { classes: opts.classes } : {}) });
        const train = dataset.samples.filter((s) => s.split === 'train' && s.pid !== null);
        if (train.length === 0) throw new PulError('dataset.empty', `${opts.data}: no labelled training images`, { file: opts.data });
        const classes = labelMap(train);
        const labels = Int32Array.from(train, (s) => classes.get(s.pid as number)!);
        const spec = { ...modelPreset(opts.model), classes: classes.size, ...(opts.dropout === undefined ? {} : { dropout: opts.dropout }) };
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
        const training = { ...optimizer, epochs: opts.epochs, batch: opts.batch, seed: opts.seed, labelSmoothing: opts.labelSmoothing, augment: opts.augment, data: opts.data };
        const latest = opts.resume ? await resolveLatest(opts.out) : null;
        let model: ReidModel;
        let trainer: Trainer;
        if (latest !== null) {
          const loaded = await loadCheckpoint(latest, { architecture: spec.architecture, input: spec.input });
          model = loaded.model;
          trainer = new Trainer(model, { epochs: opts.epochs, optimizer, labelSmoothing: opts.labelSmoothing, metricsLog: path.join(opts.out, 'metrics.jsonl') });
          const state = await loadOptimizerState(loaded.checkpoint);
          await trainer.restore({ epoch: loaded.checkpoint.manifest.epoch, optimizer: state ?? [] });
          if (state) tf.dispose(state.map((n) => n.tensor));
          progress.log(`resuming ${latest} after epoch ${trainer.epoch}`);
        } else {
          model = await buildModel(spec, new Rng(opts.seed));
          trainer = new Trainer(model, { epochs: opts.epochs, optimizer, labelSmoothing: opts.labelSmoothing, metricsLog: path.join(opts.out, 'metrics.jsonl') });
        }
        const augment = AUGMENTS[opts.augment];
        const source = datasetBatchSource(train, labels, { ...spec.input, batchSize: opts.batch, seed: opts.seed, reader, ...(augment ? { augment } : {}) });
        progress.log(`train: ${train.length} images, ${classes.size} classes, model ${opts.model} (${spec.input.height}×${spec.input.width}×${spec.input.channels}), ${opts.epochs} epochs of ${source.stepsPerEpoch} batches`);
        const started = performance.now();
        try {
          const records = await trainer.fit(source, { signal: controller.signal, progress }, async (r) => {
            const name = `epoch-${String(r.epoch).padStart(3, '0')}`;
            const state = await trainer.state();
            try {
              await saveCheckpoint(path.join(opts.out, name), { model, normalization: spec.input.channels === 3 ? 'imagenet' : 'unit', epoch: r.epoch, training, optimizer: state.optimizer, state: { classes: [...classes.keys()] } });
            } finally {
              tf.dispose(state.optimizer.map((n) => n.tensor).filter((t) => !(t instanceof tf.Variable)));
            }
            await writeLatest(opts.out, name);
            progress.log(`epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, acc ${r.accuracy.toFixed(4)}, ${r.imagesPerSecond.toFixed(0)} img/s, ${r.seconds.toFixed(1)} s`);
          });
          const seconds = (performance.now() - started) / 1000;
          const test = dataset.samples.filter((s) => s.split !== 'train' && s.pid !== null && classes.has(s.pid));
          const accuracy = test.length > 0 ? await closedSetAccuracy(model, test, Int32Array.from(test, (s) => classes.get(s.pid as number)!), 256) : null;
          const summary = { epochs: records, seconds, testImages: test.length, testAccuracy: accuracy, checkpoint: await resolveLatest(opts.out) };
          if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
          else process.stdout.write(`trained ${records.length} epochs in ${seconds.toFixed(1)} s${accuracy === null ? '' : `; closed-set accuracy on ${test.length} test images: ${accuracy.toFixed(4)}`}\ncheckpoint: ${summary.checkpoint}\n`);
        } finally {
          process.removeListener('SIGINT', onSigint);
          trainer.dispose();
          disposeModel(model);
        }
      }),
    );
}
