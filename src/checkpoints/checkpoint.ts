/**
 * A checkpoint directory: `model.json` + `weights.bin` (tfjs LayersModel format: plain
 * tf.loadLayersModel reads it), `meta.json` (the manifest below) and, for exact resume,
 * `optimizer.bin` (the optimiser's moments, tfjs weight encoding, specs in the manifest).
 */
import { lazySchema, z } from '../core/zod.js';
import { ARCHITECTURES } from '../model/build-model.js';
import { hashBitsProblem } from '../model/hash-bits.js';
import { INIT_KINDS } from '../model/initializers.js';

/** The meta.json format this version writes and reads. */
export const CHECKPOINT_FORMAT_VERSION = 1;
export const META_JSON = 'meta.json';
export const OPTIMIZER_BIN = 'optimizer.bin';

const WeightSpecSchema = lazySchema(() => z.object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), dtype: z.enum(['float32', 'int32', 'bool', 'string', 'complex64']) }));

const ModelSpecSchema = lazySchema(() => z.object({
  architecture: z.enum(ARCHITECTURES),
  input: z.object({ height: z.number().int().positive(), width: z.number().int().positive(), channels: z.union([z.literal(1), z.literal(3)]) }),
  embeddingDim: z.number().int().positive(),
  classes: z.number().int().positive(),
  dropout: z.number().min(0).lt(1),
  // checkpoints written before the config's spelling became the library's say 'normal0.001'
  classifierInit: z.preprocess((v) => (v === 'normal0.001' ? 'normal-0.001' : v), z.enum(INIT_KINDS)),
  width: z.number().positive().optional(),
  lastStride: z.union([z.literal(1), z.literal(2)]).optional(),
  pretrained: z.object({ path: z.string(), featureLayer: z.string(), freeze: z.boolean() }).optional(),
  hashBits: z.number().int().refine((b) => hashBitsProblem(b) === null, 'hash bits must be a multiple of 8 in [8, 1024]').optional(),
  pooling: z.enum(['avg', 'gem']).optional(),
  gem: z.object({ p: z.number().min(1), learnable: z.boolean() }).optional(),
  ghostBatchSize: z.number().int().min(2).optional(),
}));

/** meta.json, validated on load. `training` and `state` are free-form (the pipeline versions its own). */
export const CheckpointManifestSchema = lazySchema(() => z.object({
  formatVersion: z.literal(CHECKPOINT_FORMAT_VERSION),
  packageVersion: z.string(),
  created: z.string(),
  model: ModelSpecSchema,
  normalization: z.union([z.enum(['imagenet', 'unit']), z.object({ mean: z.array(z.number()), std: z.array(z.number()) })]),
  /** Completed training epochs of the run that wrote it. */
  epoch: z.number().int().nonnegative(),
  training: z.unknown(),
  state: z.unknown(),
  optimizer: z.object({ file: z.literal(OPTIMIZER_BIN), weights: z.array(WeightSpecSchema) }).nullable(),
  /** SHA-256 (hex) of every weight file, by file name; absent in checkpoints saved before pul recorded it. */
  sha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex')).optional(),
}));

/** A checkpoint's meta.json, validated: model spec, normalisation, epoch, training, state and weight-file hashes. */
export type CheckpointManifest = z.output<typeof CheckpointManifestSchema>;

/** A checkpoint on disk and its validated manifest. */
export interface Checkpoint {
  readonly dir: string;
  readonly manifest: CheckpointManifest;
}
