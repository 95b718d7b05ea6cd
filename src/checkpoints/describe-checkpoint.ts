/**
 * What a checkpoint holds, for `pul inspect CHECKPOINT`: the network (architecture, input, embedding,
 * classes, layers, parameters), its meta.json (versions, epoch, training options, pipeline state such
 * as the PUL round, λ, selection and metrics), its files and sizes, and an integrity check of the
 * weights against model.json and meta.json. A damaged checkpoint is described as far as it can be
 * read, with its problems named.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import { countTrainableParams, disposeModel } from '../model/build-model.js';
import { expectedWeightBytes, MODEL_JSON } from '../model/model-io.js';
import { META_JSON, type CheckpointManifest } from './checkpoint.js';
import { loadCheckpoint, readCheckpoint } from './load-checkpoint.js';
import { verifyWeightFile } from './weight-hashes.js';

/** What describeCheckpoint reports. */
export interface CheckpointDescription {
  readonly dir: string;
  readonly manifest: CheckpointManifest | null;
  readonly network: { readonly layers: number; readonly trainableParams: number; readonly totalParams: number } | null;
  readonly files: readonly { readonly name: string; readonly bytes: number }[];
  /** Weight files whose SHA-256 meta.json records (empty: a checkpoint saved before pul recorded hashes). */
  readonly hashed: readonly string[];
  /** Empty when the checkpoint is whole. */
  readonly problems: readonly string[];
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A checkpoint's manifest in words for `pul inspect`: model, sizes, training, files. */
export async function describeCheckpoint(dir: string): Promise<CheckpointDescription> {
  const problems: string[] = [];
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    throw new PulError('checkpoint.notFound', `${dir}: cannot read the folder (${message(err)})`, { file: dir });
  }
  const files = await Promise.all(names.map(async (name) => ({ name, bytes: (await stat(path.join(dir, name))).size })));
  let manifest: CheckpointManifest | null = null;
  try {
    manifest = (await readCheckpoint(dir)).manifest;
  } catch (err) {
    problems.push(message(err));
  }
  // weights against model.json's manifest
  try {
    const json = JSON.parse(await readFile(path.join(dir, MODEL_JSON), 'utf8')) as { weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
    for (const group of json.weightsManifest ?? []) {
      const expected = expectedWeightBytes(group.weights);
      const actual = group.paths.reduce((n, p) => n + (files.find((f) => f.name === p)?.bytes ?? Number.NaN), 0);
      if (Number.isNaN(actual)) problems.push(`${MODEL_JSON} names weight file(s) ${group.paths.join(', ')}, not all present`);
      else if (actual !== expected) problems.push(`${group.paths.join(', ')}: ${actual} bytes, but ${MODEL_JSON} describes ${expected}`);
    }
  } catch (err) {
    problems.push(`${path.join(dir, MODEL_JSON)}: ${message(err)}`);
  }
  if (manifest?.optimizer) {
    const o = manifest.optimizer;
    const bytes = files.find((f) => f.name === o.file)?.bytes;
    const expected = expectedWeightBytes(o.weights);
    if (bytes !== expected) problems.push(`${o.file}: ${bytes ?? 'missing'}${bytes === undefined ? '' : ' bytes'}, but ${META_JSON} describes ${expected}`);
  }
  const hashed = Object.keys(manifest?.sha256 ?? {}).sort();
  if (manifest && problems.length === 0) {
    for (const name of hashed) {
      try {
        await verifyWeightFile({ dir, manifest }, name);
      } catch (err) {
        problems.push(message(err));
      }
    }
  }
  let network: CheckpointDescription['network'] = null;
  if (problems.length === 0) {
    try {
      const { model } = await loadCheckpoint(dir);
      network = {
        layers: model.net.layers.length,
        trainableParams: countTrainableParams(model.net),
        totalParams: model.net.weights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0),
      };
      disposeModel(model);
    } catch (err) {
      problems.push(message(err));
    }
  }
  return { dir, manifest, network, files, hashed, problems };
}

const size = (bytes: number) => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`);
const compact = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/** describeCheckpoint's result as text lines. */
export function formatCheckpointDescription(d: CheckpointDescription): string {
  const out = [`checkpoint ${d.dir}`];
  const m = d.manifest;
  if (m) {
    const i = m.model.input;
    out.push(`  network: ${m.model.architecture}, input ${i.height}×${i.width}×${i.channels}, ${m.model.hashBits === undefined ? `embedding ${m.model.embeddingDim}` : `hash head ${m.model.hashBits} bits (tanh)`}, ${m.model.classes} classes, dropout ${m.model.dropout}`);
    if (d.network) out.push(`  layers ${d.network.layers}, parameters ${d.network.trainableParams.toLocaleString('en')} trainable / ${d.network.totalParams.toLocaleString('en')} total`);
    out.push(`  normalisation: ${compact(m.normalization)}; epoch ${m.epoch}; pul ${m.packageVersion}, format ${m.formatVersion}, created ${m.created}`);
    if (m.training !== null && m.training !== undefined) out.push(`  training: ${JSON.stringify(m.training)}`);
    if (typeof m.state === 'object' && m.state !== null) {
      out.push('  state:');
      for (const [k, v] of Object.entries(m.state)) out.push(`    ${k}: ${compact(v)}`);
    }
  }
  out.push('  files:', ...d.files.map((f) => `    ${f.name.padEnd(14)} ${size(f.bytes)}`));
  const hashes = d.hashed.length > 0 ? `SHA-256 of ${d.hashed.join(', ')} verified` : 'no hash recorded (saved by an older pul): sizes checked only';
  out.push(d.problems.length === 0 ? `  integrity: ok (weights match model.json and meta.json; ${hashes}; all weights finite)` : `  integrity: DAMAGED\n${d.problems.map((p) => `    - ${p}`).join('\n')}`);
  return `${out.join('\n')}\n`;
}
