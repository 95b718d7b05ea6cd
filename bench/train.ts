/**
 * `npm run bench:train`: training-step (batch 64, SGD momentum 0.9, cross-entropy) and forward
 * (batch 256, inference) images/s of the two reference nets, on the backend pul selects here, beside
 * PyTorch's figures for the identical nets (../shared/peers/RESULTS.md §3, PyTorch 1.13 CPU, 2 threads).
 * Inputs are random tensors: this measures the network, not data loading (see `pul train` for that).
 */
import { buildModel, disposeModel, MODEL_PRESETS, Rng, selectBackend, tf, Trainer, type BatchSource, type TrainBatch } from '../src/index.js';

/** RESULTS.md §3: forward img/s (batch 256, no grad) and train img/s (batch 64, SGD step). */
const PYTORCH: Record<string, { forward: number; train: number } | undefined> = { fmnist: { forward: 2524, train: 1142 }, reid: { forward: 183, train: 85 } };
/** resnet18 (width 0.5, last stride 1, 128×64) has no PyTorch figure: shown to size the ResNet option. */
const PLAN = { fmnist: { trainSteps: 30, forwardBatches: 8 }, reid: { trainSteps: 6, forwardBatches: 2 }, resnet18: { trainSteps: 3, forwardBatches: 1 } } as const;

function randomSource(shape: readonly [number, number, number, number], classes: number, steps: number, rng: Rng): BatchSource {
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  const pixels = Float32Array.from({ length: n }, () => rng.normal());
  const labels = Int32Array.from({ length: shape[0] }, () => rng.int(classes));
  return {
    stepsPerEpoch: steps,
    *batches(): Iterable<TrainBatch> {
      for (let s = 0; s < steps; s++) yield { pixels, shape, labels };
    },
  };
}

async function main(): Promise<void> {
  const backend = await selectBackend();
  const rows: Record<string, unknown>[] = [];
  for (const name of ['fmnist', 'reid', 'resnet18'] as const) {
    const spec = MODEL_PRESETS[name];
    const model = await buildModel(spec, new Rng(1));
    const { height: h, width: w, channels: c } = spec.input;
    const rng = new Rng(2);
    // Train: one warm-up epoch of 2 steps (kernel set-up), then the measured epoch.
    const trainer = new Trainer(model, { epochs: 2, optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 } });
    await trainer.runEpoch(randomSource([64, h, w, c], spec.classes, 2, rng));
    const rec = await trainer.runEpoch(randomSource([64, h, w, c], spec.classes, PLAN[name].trainSteps, rng));
    trainer.dispose();
    // Forward: batch 256, inference mode, one warm-up batch.
    const x = tf.randomNormal([256, h, w, c], 0, 1, 'float32', 3);
    const forward = async (): Promise<void> => {
      const out = model.net.predict(x) as tf.Tensor[];
      await out[1]!.data();
      tf.dispose(out);
    };
    await forward();
    const t0 = performance.now();
    for (let i = 0; i < PLAN[name].forwardBatches; i++) await forward();
    const forwardIps = (256 * PLAN[name].forwardBatches) / ((performance.now() - t0) / 1000);
    x.dispose();
    disposeModel(model);
    const torch = PYTORCH[name];
    rows.push({
      net: name,
      trainImgPerS: Math.round(rec.imagesPerSecond),
      trainRatio: torch ? +(rec.imagesPerSecond / torch.train).toFixed(2) : null,
      forwardImgPerS: Math.round(forwardIps),
      forwardRatio: torch ? +(forwardIps / torch.forward).toFixed(2) : null,
      pytorchTrain: torch?.train ?? null,
      pytorchForward: torch?.forward ?? null,
    });
  }
  process.stdout.write(`backend: ${backend.backend}; PyTorch figures from ../shared/peers/RESULTS.md §3 (same 2-core VM, shared)\n`);
  process.stdout.write('net     train img/s (×PyTorch)   forward img/s (×PyTorch)\n');
  for (const r of rows) {
    const vs = (ratio: unknown, torch: unknown): string => (typeof torch === 'number' ? `(${String(ratio)}× of ${torch})` : '(no PyTorch figure)');
    process.stdout.write(`${String(r['net']).padEnd(9)}${String(r['trainImgPerS']).padStart(7)} ${vs(r['trainRatio'], r['pytorchTrain'])}   ${String(r['forwardImgPerS']).padStart(8)} ${vs(r['forwardRatio'], r['pytorchForward'])}\n`);
  }
  process.stdout.write(`${JSON.stringify({ backend: backend.backend, rows })}\n`);
}

await main();
