/** Reads a checkpoint: validates meta.json, loads the network and (optionally) the optimiser state. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from '../core/zod.js';
import { tf } from '../backend/tf.js';
import { readJson } from '../core/atomic-fs.js';
import { PulError } from '../core/errors.js';
import { reidModelFrom, type ModelSpec, type ReidModel } from '../model/build-model.js';
import { expectedWeightBytes, loadLayersModelFromDir, WEIGHTS_BIN } from '../model/model-io.js';
import { CheckpointManifestSchema, META_JSON, type Checkpoint } from './checkpoint.js';
import { verifyWeightFile } from './weight-hashes.js';

/** Reads and validates `dir/meta.json`; a missing, malformed or foreign manifest is an error naming it. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const file = path.join(dir, META_JSON);
  let raw: unknown;
  try {
    raw = await readJson(file, 'checkpoint.corrupt');
  } catch (err) {
    if ((err as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') {
      throw new PulError('checkpoint.notFound', `${dir} is not a checkpoint (no ${META_JSON})`, { file }, { cause: err });
    }
    throw err;
  }
  const parsed = CheckpointManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PulError('checkpoint.corrupt', `${file}: invalid checkpoint manifest:\n${z.prettifyError(parsed.error)}`, { file });
  }
  return { dir, manifest: parsed.data };
}

/** A loaded model and the checkpoint it came from. */
export interface LoadedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly model: ReidModel;
}

/**
 * Loads the network of a checkpoint. `expect` (optional) is checked against the manifest: a checkpoint
 * of another architecture, input size or embedding size is `checkpoint.mismatch`.
 *
 * @example
 * ```ts
 * const { model, checkpoint } = await loadCheckpoint('runs/a/epoch-006');
 * ```
 */
/** What a caller requires of a checkpoint's model (checked against meta.json, mismatches named). */
export type ExpectedModel = Partial<Pick<ModelSpec, 'architecture' | 'embeddingDim'>> & { input?: ModelSpec['input'] };

/** Loads a checkpoint folder's model (checked against `expect` when given) and manifest; the caller disposes the model. */
export async function loadCheckpoint(dir: string, expect?: ExpectedModel): Promise<LoadedCheckpoint> {
  const checkpoint = await readCheckpoint(dir);
  const spec = checkpoint.manifest.model as ModelSpec;
  if (expect) {
    const diffs: string[] = [];
    if (expect.architecture !== undefined && expect.architecture !== spec.architecture) diffs.push(`architecture ${spec.architecture} (expected ${expect.architecture})`);
    if (expect.embeddingDim !== undefined && expect.embeddingDim !== spec.embeddingDim) diffs.push(`embedding dim ${spec.embeddingDim} (expected ${expect.embeddingDim})`);
    const i = expect.input;
    if (i && (i.height !== spec.input.height || i.width !== spec.input.width || i.channels !== spec.input.channels)) {
      diffs.push(`input ${spec.input.height}×${spec.input.width}×${spec.input.channels} (expected ${i.height}×${i.width}×${i.channels})`);
    }
    if (diffs.length > 0) throw new PulError('checkpoint.mismatch', `${dir}: checkpoint has ${diffs.join(', ')}`, { file: path.join(dir, META_JSON) });
  }
  const net = await loadLayersModelFromDir(dir); // names a missing or truncated file first
  try {
    await verifyWeightFile(checkpoint, WEIGHTS_BIN);
  } catch (err) {
    net.dispose();
    throw err;
  }
  const outputs = net.outputs;
  const logits = outputs[1]?.shape;
  if (outputs.length !== 2 || logits?.[1] !== spec.classes) {
    net.dispose();
    throw new PulError('checkpoint.mismatch', `${dir}: model.json has ${outputs.length} outputs / ${String(logits?.[1])} classes but ${META_JSON} says 2 / ${spec.classes}`, { file: path.join(dir, META_JSON) });
  }
  const bad = firstNonFinite(net.layers.flatMap((layer) => layer.weights.map((w) => ({ name: `${w.originalName.split('/').pop() ?? ''} of layer ${layer.name}`, tensor: w.read() }))));
  if (bad !== null) {
    net.dispose();
    throw new PulError('checkpoint.corrupt', `${path.join(dir, WEIGHTS_BIN)}: weight ${bad.name} holds ${bad.value} (at element ${bad.index}); a usable checkpoint has only finite weights`, { file: path.join(dir, WEIGHTS_BIN) });
  }
  return { checkpoint, model: reidModelFrom(net, spec) };
}

/** The first weight holding NaN or ±Infinity, or null. */
function firstNonFinite(weights: readonly { name: string; tensor: tf.Tensor }[]): { name: string; index: number; value: number } | null {
  for (const { name, tensor } of weights) {
    if (tensor.dtype !== 'float32') continue;
    const values = tensor.dataSync();
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return { name, index: i, value: values[i]! };
  }
  return null;
}

/** The optimiser state stored with a checkpoint (the caller disposes the tensors), or null. */
export async function loadOptimizerState(checkpoint: Checkpoint): Promise<{ name: string; tensor: tf.Tensor }[] | null> {
  const o = checkpoint.manifest.optimizer;
  if (o === null) return null;
  const file = path.join(checkpoint.dir, o.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new PulError('checkpoint.corrupt', `${file}: cannot read optimiser state: ${(err as Error).message}`, { file }, { cause: err });
  }
  const specs = o.weights as tf.io.WeightsManifestEntry[];
  const expected = expectedWeightBytes(specs);
  if (bytes.byteLength !== expected) {
    throw new PulError('checkpoint.corrupt', `${file}: holds ${bytes.byteLength} bytes but ${META_JSON} describes ${expected}`, { file });
  }
  await verifyWeightFile(checkpoint, o.file, bytes);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const map = tf.io.decodeWeights(copy.buffer, specs);
  const tensors = specs.map((s) => ({ name: s.name, tensor: map[s.name] as tf.Tensor }));
  const bad = firstNonFinite(tensors);
  if (bad !== null) {
    tf.dispose(tensors.map((t) => t.tensor));
    throw new PulError('checkpoint.corrupt', `${file}: optimiser variable ${bad.name} holds ${bad.value} (at element ${bad.index}); resume needs finite optimiser state`, { file });
  }
  return tensors;
}
