/** Writes a checkpoint directory atomically (temp dir + rename): a failed save leaves the old one. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tf } from '../backend/tf.js';
import { writeDirAtomic, writeJsonAtomic } from '../core/atomic-fs.js';
import { PACKAGE_VERSION } from '../core/version.js';
import type { ReidModel } from '../model/build-model.js';
import { fileIOHandler, WEIGHTS_BIN } from '../model/model-io.js';
import { CHECKPOINT_FORMAT_VERSION, META_JSON, OPTIMIZER_BIN, type Checkpoint, type CheckpointManifest } from './checkpoint.js';
import { hashFiles } from './weight-hashes.js';

/** What saveCheckpoint writes: the model, its normalisation, epoch, free-form training/state, optimiser state. */
export interface SaveCheckpointInput {
  readonly model: ReidModel;
  readonly normalization: 'imagenet' | 'unit' | { readonly mean: readonly number[]; readonly std: readonly number[] };
  readonly epoch: number;
  /** The training options (any JSON value). */
  readonly training?: unknown;
  /** Free-form pipeline state (any JSON value), versioned by its owner. */
  readonly state?: unknown;
  /** Optimiser state (tfjs optimizer.getWeights format) for exact resume. */
  readonly optimizer?: readonly { readonly name: string; readonly tensor: tf.Tensor }[] | null;
}

/**
 * Saves `input` into `dir` (replacing a previous checkpoint there only once the new one is complete).
 *
 * @example
 * ```ts
 * const ckpt = await saveCheckpoint('runs/a/epoch-006', { model, normalization: 'unit', epoch: 6 });
 * ```
 */
export async function saveCheckpoint(dir: string, input: SaveCheckpointInput): Promise<Checkpoint> {
  let manifest: CheckpointManifest | undefined;
  await writeDirAtomic(dir, async (tmp) => {
    await input.model.net.save(fileIOHandler(tmp));
    let optimizer: CheckpointManifest['optimizer'] = null;
    if (input.optimizer) {
      const { data, specs } = await tf.io.encodeWeights(input.optimizer.map((n) => ({ name: n.name, tensor: n.tensor })));
      await writeFile(path.join(tmp, OPTIMIZER_BIN), new Uint8Array(tf.io.CompositeArrayBuffer.join(data)));
      optimizer = { file: OPTIMIZER_BIN, weights: specs.map((s) => ({ name: s.name, shape: [...s.shape], dtype: s.dtype })) };
    }
    manifest = {
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      packageVersion: PACKAGE_VERSION,
      created: new Date().toISOString(),
      model: input.model.spec,
      normalization: typeof input.normalization === 'string' ? input.normalization : { mean: [...input.normalization.mean], std: [...input.normalization.std] },
      epoch: input.epoch,
      training: input.training ?? null,
      state: input.state ?? null,
      optimizer,
      // hashed from the files written, so a later change of their bytes is caught on load
      sha256: await hashFiles(tmp, optimizer ? [WEIGHTS_BIN, OPTIMIZER_BIN] : [WEIGHTS_BIN]),
    };
    await writeJsonAtomic(path.join(tmp, META_JSON), manifest);
  });
  return { dir, manifest: manifest as CheckpointManifest };
}
