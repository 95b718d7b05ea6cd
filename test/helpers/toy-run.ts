import path from 'node:path';
import { MODEL_PRESETS, Rng, buildModel, disposeModel, saveCheckpoint, selectBackend, writeLatest } from '../../src/index.js';
import { writeReidImages } from './reid-images.js';

/** The reid images of writeReidImages in `dir`/data and a run folder `dir`/run whose latest.json names an untrained fmnist checkpoint (seed 3). */
export async function writeToyRun(dir: string): Promise<{ data: string; run: string }> {
  await selectBackend('wasm');
  const data = path.join(dir, 'data');
  await writeReidImages(data);
  const model = await buildModel(MODEL_PRESETS.fmnist, new Rng(3));
  const run = path.join(dir, 'run');
  await saveCheckpoint(path.join(run, 'epoch-001'), { model, normalization: 'unit', epoch: 1 });
  await writeLatest(run, 'epoch-001');
  disposeModel(model);
  return { data, run };
}
