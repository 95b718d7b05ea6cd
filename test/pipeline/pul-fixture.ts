/**
 * A tiny fmnist-disjoint look-alike for the pipeline tests: 12×12 IDX images, class c = a bright
 * blob in one of four places (plus seeded noise and jitter); source = classes 0–1, target = 2–3.
 * The config trains the fmnist net at 12×12 for a couple of epochs: seconds per run.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Rng, type PipelineConfigInput } from '../../src/index.js';
import { encodeIdx } from '../../src/datasets/idx-file.js';

const S = 12;
const PLACES = [[2, 2], [2, 7], [7, 2], [7, 7]] as const;

async function writeSet(dir: string, set: string, perClass: number, rng: Rng): Promise<void> {
  const n = perClass * PLACES.length;
  const px = new Uint8Array(n * S * S);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % PLACES.length;
    labels[i] = c;
    const [y0, x0] = PLACES[c]!;
    const dy = rng.int(2);
    const dx = rng.int(2);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const inside = y >= y0 + dy && y < y0 + dy + 3 && x >= x0 + dx && x < x0 + dx + 3;
        px[i * S * S + y * S + x] = (inside ? 190 : 20) + rng.int(50);
      }
    }
  }
  await writeFile(path.join(dir, `${set}-images-idx3-ubyte`), encodeIdx([n, S, S], px));
  await writeFile(path.join(dir, `${set}-labels-idx1-ubyte`), encodeIdx([n], labels));
}

/** Writes the IDX files into `dir` (train: 40 per class, t10k: 20 per class). */
export async function writePulFixture(dir: string): Promise<void> {
  const rng = new Rng(11);
  await writeSet(dir, 'train', 40, rng);
  await writeSet(dir, 't10k', 20, rng);
}

/** A configuration for the fixture in `dataDir`, runs under `out`. */
export function fixtureConfig(dataDir: string, out: string): PipelineConfigInput {
  return {
    name: 'tiny',
    out,
    seed: 3,
    data: {
      source: { path: dataDir, format: 'idx', classes: [0, 1] },
      target: { path: dataDir, format: 'idx', classes: [2, 3] },
    },
    model: { name: 'fmnist', input: { height: S, width: S, channels: 1 }, embeddingDim: 16, dropout: 0.5 },
    sourceTraining: { epochs: 2, batchSize: 16 },
    clustering: { k: 2, restarts: 2 },
    training: { epochsPerRound: 2, batchSize: 16, augment: 'none' },
    stop: { maxRounds: 2, minChange: 0 },
  };
}
