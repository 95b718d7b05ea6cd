/**
 * npm run bench:data — images/s of the data pipeline (decode + resize + normalise + augment, batched,
 * with prefetch) for JPEGs at 128×64 (a synthetic re-ID set generated into a temp folder) and for
 * IDX images at 28×28 (Debian's Fashion-MNIST when installed, else a generated IDX file).
 * The figure to beat is the training step's own images/s on this machine (pul info / bench:backend):
 * loading must never be the bottleneck.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PUL_KERAS_AUGMENT, REID_AUGMENT, ImageReader, Rng, generateSyntheticReid, loadDataset, samplesOf, type AugmentOptions, type Sample } from '../src/index.js';
import { iterateBatches } from '../src/datasets/batches.js';
import { shuffledOrder } from '../src/datasets/samplers.js';

const FMNIST = '/usr/share/datasets/fashion-mnist';

async function rate(samples: readonly Sample[], spec: { height: number; width: number; channels: 1 | 3 }, augment: AugmentOptions | undefined, reader: ImageReader, batchSize: number): Promise<number> {
  const rng = new Rng(1);
  const t0 = performance.now();
  let n = 0;
  for await (const b of iterateBatches(samples, { ...spec, batchSize, order: shuffledOrder(samples.length, rng), reader, prefetch: 2, ...(augment ? { augment, rng } : {}) })) n += b.shape[0];
  return n / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pul-bench-data-'));
  try {
    const rows: string[][] = [];
    const report = await generateSyntheticReid({ out: path.join(tmp, 'demo'), ids: 100, cams: 4, seed: 1 });
    const jpegs = samplesOf(await loadDataset(report.domains.source.root), 'train');
    const spec = { height: 128, width: 64, channels: 3 } as const;
    await rate(jpegs.slice(0, 128), spec, undefined, new ImageReader(), 64); // warm-up
    for (const [name, aug] of [['none', undefined], ['flip+pad/crop+erasing', REID_AUGMENT], ['rotation±20°+shift 0.2 (PUL)', PUL_KERAS_AUGMENT]] as const) {
      rows.push([`JPEG ${jpegs.length} × 128×64×3`, name, (await rate(jpegs, spec, aug, new ImageReader(), 64)).toFixed(0)]);
    }
    const idxRoot = FMNIST;
    let idxSamples: Sample[];
    try {
      idxSamples = samplesOf(await loadDataset(idxRoot), 'train').slice(0, 20000);
    } catch {
      idxSamples = [];
    }
    if (idxSamples.length > 0) {
      const reader = new ImageReader();
      await rate(idxSamples.slice(0, 256), { height: 28, width: 28, channels: 1 }, undefined, reader, 256); // reads the IDX file once
      for (const [name, aug] of [['none', undefined], ['rotation±20°+shift 0.2 (PUL)', PUL_KERAS_AUGMENT]] as const) {
        rows.push([`IDX ${idxSamples.length} × 28×28×1`, name, (await rate(idxSamples, { height: 28, width: 28, channels: 1 }, aug, reader, 256)).toFixed(0)]);
      }
      rows.push([`IDX ${Math.min(5000, idxSamples.length)} resized to 128×64×3`, 'none', (await rate(idxSamples.slice(0, 5000), spec, undefined, reader, 64)).toFixed(0)]);
    } else {
      process.stdout.write(`(${idxRoot} not found: IDX rows skipped; apt-get install dataset-fashion-mnist)\n`);
    }
    const w = [Math.max(...rows.map((r) => r[0]!.length)), Math.max(...rows.map((r) => r[1]!.length))];
    process.stdout.write(`data pipeline, images/s (batched, prefetch 2, ${os.cpus().length} CPUs, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4'})\n`);
    for (const r of rows) process.stdout.write(`${r[0]!.padEnd(w[0]!)}  ${r[1]!.padEnd(w[1]!)}  ${r[2]!.padStart(7)}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
