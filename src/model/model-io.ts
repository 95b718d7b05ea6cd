/**
 * A node:fs IOHandler for tfjs LayersModels: `model.json` + weight files in a directory. tfjs's own
 * `file://` handler only exists when tfjs-node is installed; this one works on every backend and
 * names the bad file when a model is missing, truncated or malformed.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import { registerPulLayers } from './gem-pooling.js';

/** The topology file of a saved LayersModel. */
export const MODEL_JSON = 'model.json';
/** The weights file of a saved LayersModel. */
export const WEIGHTS_BIN = 'weights.bin';

const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

/** Bytes the weight specs describe (quantised weights count their stored bytes). */
export function expectedWeightBytes(specs: readonly tf.io.WeightsManifestEntry[]): number {
  let total = 0;
  for (const s of specs) {
    const count = s.shape.reduce((a, b) => a * b, 1);
    const bytes = s.quantization ? DTYPE_BYTES[s.quantization.dtype] ?? 4 : DTYPE_BYTES[s.dtype] ?? 4;
    total += count * bytes;
  }
  return total;
}

/**
 * An IOHandler reading and writing `dir/model.json` + `dir/weights.bin` (loading also accepts the
 * sharded weight files of converted models, in manifest order).
 *
 * @example
 * ```ts
 * await model.save(fileIOHandler('out/model'));
 * const same = await tf.loadLayersModel(fileIOHandler('out/model'));
 * ```
 */
export function fileIOHandler(dir: string, modelFile = MODEL_JSON): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await fs.mkdir(dir, { recursive: true });
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        ...(artifacts.trainingConfig === undefined ? {} : { trainingConfig: artifacts.trainingConfig }),
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      await fs.writeFile(path.join(dir, WEIGHTS_BIN), new Uint8Array(data));
      await fs.writeFile(path.join(dir, modelFile), JSON.stringify(json));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: data.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonFile = path.join(dir, modelFile);
      let json: { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; format?: string; generatedBy?: string; convertedBy?: string | null };
      try {
        json = JSON.parse(await fs.readFile(jsonFile, 'utf8')) as typeof json;
      } catch (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        throw new PulError(missing ? 'checkpoint.notFound' : 'checkpoint.corrupt', `${jsonFile}: ${missing ? 'no such file (a tfjs model directory holds model.json + weights)' : `not a valid model.json: ${(err as Error).message}`}`, { file: jsonFile }, { cause: err });
      }
      if (typeof json.modelTopology !== 'object' || json.modelTopology === null || !Array.isArray(json.weightsManifest)) {
        throw new PulError('checkpoint.corrupt', `${jsonFile}: model.json needs "modelTopology" and "weightsManifest"`, { file: jsonFile });
      }
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const file = path.join(dir, p);
          try {
            buffers.push(await fs.readFile(file));
          } catch (err) {
            throw new PulError('checkpoint.corrupt', `${file}: weight file listed in model.json cannot be read: ${(err as Error).message}`, { file }, { cause: err });
          }
        }
      }
      const total = buffers.reduce((a, b) => a + b.byteLength, 0);
      const expected = expectedWeightBytes(specs);
      if (total !== expected) {
        const file = path.join(dir, json.weightsManifest[0]?.paths[0] ?? WEIGHTS_BIN);
        throw new PulError('checkpoint.corrupt', `${file}: weights hold ${total} bytes but model.json describes ${expected} (truncated or from another model)`, { file });
      }
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        weightData.set(b, offset);
        offset += b.byteLength;
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: weightData.buffer,
        ...(json.format === undefined ? {} : { format: json.format }),
      };
    },
  };
}

/**
 * Loads any tfjs LayersModel from disk: its folder (holding model.json) or the model's JSON file itself
 * (a converter may name it otherwise); the weight files are read from beside it.
 */
export async function loadLayersModelFromDir(location: string): Promise<tf.LayersModel> {
  const isJsonFile = location.toLowerCase().endsWith('.json');
  const dir = isJsonFile ? path.dirname(location) : location;
  const modelFile = isJsonFile ? path.basename(location) : MODEL_JSON;
  registerPulLayers(); // a model.json may name pul's own layers (GeM)
  try {
    return await tf.loadLayersModel(fileIOHandler(dir, modelFile));
  } catch (err) {
    if (err instanceof PulError) throw err;
    const file = path.join(dir, modelFile);
    throw new PulError('checkpoint.corrupt', `${file}: tfjs could not build the model: ${(err as Error).message}`, { file }, { cause: err });
  }
}
