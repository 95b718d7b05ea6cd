/**
 * node dist/bench/train-stage.js [steps] — the fmnist-disjoint retraining step as the pipeline runs it:
 * the target's 30 000 IDX images (classes 5–9) with 5 pseudo-classes, the fmnist net with dropout 0.5 and
 * the config's normalisation, "pul" augmentation, SGD momentum 0.9, P×K 5×13 batches (PUL_STAGE_SAMPLER=epoch:
 * batches of 64, the source training's). Prints img/s, CPU ms per step (every thread) and where the wall
 * time went (waiting for batches vs steps), with /proc/loadavg: a short, repeatable in-pipeline figure.
 * PUL_STAGE_OPBYOP_LOSS=1: the cross-entropy op by op instead of pul's fused kernel (A/B of that kernel);
 * PUL_STAGE_OPBYOP_DROPOUT=1: tf.dropout's ops instead of pul's fused dropout.
 */
import { readFileSync } from 'node:fs';
import { tf, buildModel, createSampler, datasetBatchSource, disposeModel, ImageReader, loadDataset, MODEL_PRESETS, PUL_KERAS_AUGMENT, Rng, samplesOf, selectBackend, Trainer, type BatchSource } from '../src/index.js';
import { timeWasmKernels } from './kernel-timer.js';

const STEPS = Number(process.argv[2] ?? 200);
const ROOT = process.env['PUL_FMNIST'] ?? '/usr/share/datasets/fashion-mnist';

function firstSteps(source: BatchSource, steps: number): BatchSource {
  return {
    stepsPerEpoch: steps,
    async *batches(epoch, signal) {
      let s = 0;
      for await (const b of source.batches(epoch, signal)) {
        if (s++ >= steps) break;
        yield b;
      }
    },
  };
}

/** PUL_STAGE_PROFILE=1: CPU ms and calls per kernel, to see the small ones. */
const totals = new Map<string, { cpu: number; calls: number }>();
function instrumentKernels(): void {
  timeWasmKernels((kernelName, shape, _ms, cpu) => {
    const key = `${kernelName} ${shape}`;
    const e = totals.get(key) ?? { cpu: 0, calls: 0 };
    e.cpu += cpu;
    e.calls++;
    totals.set(key, e);
  });
}

async function main(): Promise<void> {
  const info = await selectBackend('wasm');
  const profiling = process.env['PUL_STAGE_PROFILE'] === '1';
  // without its gradient the fused loss is not used (src/backend/softmax-cross-entropy.ts)
  if (process.env['PUL_STAGE_OPBYOP_LOSS'] === '1') tf.unregisterGradient('PulSoftmaxCrossEntropy');
  if (process.env['PUL_STAGE_OPBYOP_DROPOUT'] === '1') tf.unregisterGradient('PulDropoutApply');
  if (profiling) instrumentKernels();
  const dataset = await loadDataset(ROOT, { format: 'idx', classes: [5, 6, 7, 8, 9] });
  const samples = samplesOf(dataset, 'train');
  const labels = Int32Array.from(samples, (s) => (s.pid ?? 0) % 5);
  const spec = { ...MODEL_PRESETS.fmnist, classes: 5, dropout: 0.5 };
  const model = await buildModel(spec, new Rng(1));
  const pk = (process.env['PUL_STAGE_SAMPLER'] ?? 'pk') === 'pk';
  const sampler = pk
    ? createSampler('pk', labels, { structure: 'epoch', batchSize: 64, p: 5, k: 13, seed: 3 })
    : createSampler('epoch', labels, { structure: 'epoch', batchSize: 64, p: 1, k: 1, seed: 3 });
  const source = datasetBatchSource(samples, labels, {
    ...spec.input, normalize: { mean: [0.286], std: [0.353] }, batchSize: 64, seed: 3, augment: PUL_KERAS_AUGMENT, reader: new ImageReader(), sampler,
  });
  const trainer = new Trainer(model, { epochs: 2, optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 }, seed: 5 });
  await trainer.runEpoch(firstSteps(source, 5)); // warm-up: kernel set-up, IDX decode
  totals.clear();
  const cpu0 = process.cpuUsage();
  const rec = await trainer.runEpoch(firstSteps(source, STEPS));
  const cpu = process.cpuUsage(cpu0);
  trainer.dispose();
  disposeModel(model);
  if (profiling) {
    const rows = [...totals.entries()].sort((a, b) => b[1].cpu - a[1].cpu);
    const calls = rows.reduce((n, [, e]) => n + e.calls, 0) / STEPS;
    const kernelCpu = rows.reduce((n, [, e]) => n + e.cpu, 0) / STEPS;
    for (const [k, e] of rows) process.stdout.write(`${k.padEnd(48)} ${(e.calls / STEPS).toFixed(1).padStart(5)} calls ${(e.cpu / STEPS).toFixed(2).padStart(7)} CPU ms/step\n`);
    process.stdout.write(`kernels: ${calls.toFixed(0)} calls, ${kernelCpu.toFixed(1)} CPU ms per step\n`);
  }
  const b = rec.breakdown!;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  process.stdout.write(
    `${info.native?.isa ?? 'no-native'} ${pk ? 'pk 5x13' : 'epoch 64'}: ${rec.steps} steps, ${rec.imagesPerSecond.toFixed(0)} img/s, ` +
      `CPU ${((cpu.user + cpu.system) / 1000 / rec.steps).toFixed(1)} ms/step, wall ${((rec.seconds * 1000) / rec.steps).toFixed(1)} ms/step ` +
      `(data ${((b.dataSeconds * 1000) / rec.steps).toFixed(1)}, step ${((b.stepSeconds * 1000) / rec.steps).toFixed(1)}), loss ${rec.loss.toFixed(4)}, load ${load}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
