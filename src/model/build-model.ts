/**
 * The re-ID network: backbone → global average pool → embedding (dense; the retrieval feature) →
 * batch norm ("BNNeck") → dropout (training only, applied by the trainer) → classifier with K outputs. As in train_ref.py's SmallCNN, the
 * network outputs [embedding, logits]; the classifier is re-created each PUL round (K changes) while
 * the backbone and embedding keep their weights.
 */
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import type { Rng } from '../core/random.js';
import { hashBitsProblem } from './hash-bits.js';
import { makeInitializer, type InitKind } from './initializers.js';
import { gemPooling, registerPulLayers } from './gem-pooling.js';
import { batchNorm, type Sym } from './layers.js';
import { loadLayersModelFromDir } from './model-io.js';
import { referenceBackbone } from './reference-nets.js';
import { resnetBackbone } from './resnet.js';

/** The network architectures pul builds (`pretrained` = a loaded LayersModel backbone). */
export const ARCHITECTURES = ['fmnist', 'reid', 'resnet18', 'resnet34', 'pretrained'] as const;
/** One of ARCHITECTURES. */
export type Architecture = (typeof ARCHITECTURES)[number];

/** Everything needed to rebuild the network; stored in checkpoints' meta.json. */
export interface ModelSpec {
  readonly architecture: Architecture;
  /** Input H×W×C (C = 1 grey or 3 RGB). */
  readonly input: { readonly height: number; readonly width: number; readonly channels: 1 | 3 };
  readonly embeddingDim: number;
  readonly classes: number;
  /** Dropout rate before the classifier, in [0, 1). */
  readonly dropout: number;
  readonly classifierInit: InitKind;
  /** ResNet only: width multiplier and stride of the last stage. */
  readonly width?: number;
  readonly lastStride?: 1 | 2;
  /** `pretrained` only: a tfjs LayersModel directory, the layer whose output is the feature, freeze it. */
  readonly pretrained?: { readonly path: string; readonly featureLayer: string; readonly freeze: boolean };
  /** A hash head: the embedding layer has B = hashBits units with tanh (embeddingDim must equal it); sign() of it gives B-bit codes. */
  readonly hashBits?: number;
  /** Global pooling of the backbone's feature map: 'avg' (default) or 'gem' (generalised mean, Radenović et al. 2018). */
  readonly pooling?: 'avg' | 'gem';
  /** GeM's p (≥ 1) and whether it is trained; default p = 3, learnable. */
  readonly gem?: { readonly p: number; readonly learnable: boolean };
  /** Ghost batch norm: in training, BN statistics over chunks of this many images (ghost-batch.ts); default the whole batch. */
  readonly ghostBatchSize?: number;
}

/** Named defaults; `fmnist` and `reid` are train_ref.py's nets (110,954 / 518,927 parameters). */
export const MODEL_PRESETS = {
  fmnist: { architecture: 'fmnist', input: { height: 28, width: 28, channels: 1 }, embeddingDim: 128, classes: 10, dropout: 0, classifierInit: 'glorot' },
  reid: { architecture: 'reid', input: { height: 128, width: 64, channels: 3 }, embeddingDim: 128, classes: 751, dropout: 0, classifierInit: 'glorot' },
  resnet18: { architecture: 'resnet18', input: { height: 128, width: 64, channels: 3 }, embeddingDim: 256, classes: 751, dropout: 0, classifierInit: 'normal-0.001', width: 0.5, lastStride: 1 },
  resnet34: { architecture: 'resnet34', input: { height: 128, width: 64, channels: 3 }, embeddingDim: 256, classes: 751, dropout: 0, classifierInit: 'normal-0.001', width: 0.5, lastStride: 1 },
} as const satisfies Record<string, ModelSpec>;

/** A name of MODEL_PRESETS (config model.name, `--model`). */
export type ModelPresetName = keyof typeof MODEL_PRESETS;

export const LAYER_EMBEDDING = 'embedding';
export const LAYER_BNNECK = 'bnneck';
export const LAYER_CLASSIFIER = 'classifier';

/** A built network: `net` maps images (N×H×W×C) to [embedding N×D, logits N×K]; `embedder` to the embedding. */
export interface ReidModel {
  readonly spec: ModelSpec;
  readonly net: tf.LayersModel;
  readonly embedder: tf.LayersModel;
}

/** The preset of that name; an unknown name is an option error listing the known ones. */
export function modelPreset(name: string): ModelSpec {
  const option = 'model.name';
  if (!(name in MODEL_PRESETS)) {
    throw new PulError('option.invalid', `unknown model "${name}"; known: ${Object.keys(MODEL_PRESETS).join(', ')}`, { option });
  }
  return MODEL_PRESETS[name as ModelPresetName];
}

function validateSpec(spec: ModelSpec): void {
  const bad = (what: string): never => {
    throw new PulError('option.outOfRange', `model ${spec.architecture}: ${what}`, { option: 'model' });
  };
  if (!(spec.classes >= 1 && Number.isInteger(spec.classes))) bad(`classes=${spec.classes} must be a positive integer`);
  if (!(spec.embeddingDim >= 1 && Number.isInteger(spec.embeddingDim))) bad(`embeddingDim=${spec.embeddingDim} must be a positive integer`);
  if (!(spec.dropout >= 0 && spec.dropout < 1)) bad(`dropout=${spec.dropout} must be in [0, 1)`);
  if (!(spec.input.height >= 8 && spec.input.width >= 8)) bad(`input ${spec.input.height}×${spec.input.width} is smaller than 8×8`);
  if (spec.ghostBatchSize !== undefined && !(Number.isInteger(spec.ghostBatchSize) && spec.ghostBatchSize >= 2)) {
    throw new PulError('option.outOfRange', `ghostBatchSize=${spec.ghostBatchSize} must be a whole number ≥ 2 (batch norm needs 2 images per statistic)`, { option: 'model.ghostBatchSize' });
  }
  if (spec.gem !== undefined && !(spec.gem.p >= 1 && Number.isFinite(spec.gem.p))) throw new PulError('option.outOfRange', `GeM p=${spec.gem.p} must be a finite number ≥ 1`, { option: 'model.gem.p' });
  if (spec.hashBits !== undefined) {
    const problem = hashBitsProblem(spec.hashBits);
    if (problem !== null) throw new PulError('option.outOfRange', `hash head: ${problem}`, { option: 'model.hashBits' });
    if (spec.embeddingDim !== spec.hashBits) throw new PulError('option.invalid', `hash head of ${spec.hashBits} bits: the embedding is the code, so embeddingDim (${spec.embeddingDim}) must equal it`, { option: 'model.hashBits' });
  }
}

/**
 * Builds the network described by `spec`, with every initialiser seeded from `rng`.
 *
 * @example
 * ```ts
 * const model = await buildModel({ ...MODEL_PRESETS.fmnist, classes: 5 }, new Rng(1));
 * const [emb, logits] = model.net.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor[];
 * ```
 */
export async function buildModel(spec: ModelSpec, rng: Rng): Promise<ReidModel> {
  validateSpec(spec);
  registerPulLayers();
  let input: Sym;
  let features: Sym;
  let frozen: tf.LayersModel | null = null;
  if (spec.architecture === 'pretrained') {
    const p = spec.pretrained;
    if (p === undefined) throw new PulError('option.invalid', 'model "pretrained" needs pretrained.path and pretrained.featureLayer', { option: 'model' });
    const base = await loadLayersModelFromDir(p.path);
    let layer: tf.layers.Layer;
    try {
      layer = base.getLayer(p.featureLayer);
    } catch {
      throw new PulError('option.invalid', `${p.path}: no layer named "${p.featureLayer}" (some layers: ${base.layers.slice(-5).map((l) => l.name).join(', ')})`, { option: 'featureLayer' });
    }
    input = base.inputs[0] as Sym;
    features = layer.output as Sym;
    if (p.freeze) frozen = base;
  } else {
    input = tf.input({ shape: [spec.input.height, spec.input.width, spec.input.channels], name: 'image' });
    features =
      spec.architecture === 'fmnist' || spec.architecture === 'reid'
        ? referenceBackbone(spec.architecture, input, rng)
        : resnetBackbone(input, { depth: spec.architecture === 'resnet18' ? 18 : 34, width: spec.width ?? 1, lastStride: spec.lastStride ?? 2 }, rng);
  }
  if (features.shape.length === 4) {
    const pool = spec.pooling === 'gem' ? gemPooling({ p: spec.gem?.p ?? 3, learnable: spec.gem?.learnable ?? true, name: 'gem' }) : tf.layers.globalAveragePooling2d({});
    features = pool.apply(features) as Sym;
  }
  const embedding = tf.layers
    // a hash head squashes the embedding into (−1, 1) so that sign() of it is the code (DSH, Liu et al. 2016)
    .dense({ units: spec.embeddingDim, name: LAYER_EMBEDDING, kernelInitializer: makeInitializer('glorot', rng), ...(spec.hashBits === undefined ? {} : { activation: 'tanh' as const }) })
    .apply(features) as Sym;
  if (frozen !== null) for (const l of frozen.layers) l.trainable = false;
  const net = attachClassifier(input, embedding, spec, rng);
  return { spec, net, embedder: tf.model({ inputs: input, outputs: embedding }) };
}

function attachClassifier(input: Sym, embedding: Sym, spec: ModelSpec, rng: Rng, bnneckFrom?: tf.layers.Layer): tf.LayersModel {
  // No dropout layer in the graph: a seeded tfjs dropout layer draws the same mask at every step and
  // an unseeded one makes runs unrepeatable. The trainer applies spec.dropout with a per-step seed.
  const bnneck = batchNorm(LAYER_BNNECK);
  const h = bnneck.apply(embedding) as Sym;
  // a copy of the previous BNNeck's scale, offset and running statistics (the old layer is disposed)
  if (bnneckFrom !== undefined) bnneck.setWeights(bnneckFrom.getWeights());
  const logits = tf.layers
    .dense({ units: spec.classes, name: LAYER_CLASSIFIER, kernelInitializer: makeInitializer(spec.classifierInit, rng), biasInitializer: 'zeros' })
    .apply(h) as Sym;
  return tf.model({ inputs: input, outputs: [embedding, logits] });
}

/**
 * A fresh classifier with `classes` outputs on the same backbone, embedding and BNNeck (PUL: a new
 * classifier each round, initialised N(0, 0.001) by the authors; train_ref.py's reset_classifier also
 * keeps the BN before it). The old classifier's weights are disposed; `model` must not be used afterwards.
 */
export function replaceClassifier(model: ReidModel, classes: number, rng: Rng, init: InitKind = model.spec.classifierInit): ReidModel {
  const spec: ModelSpec = { ...model.spec, classes, classifierInit: init };
  validateSpec(spec);
  const input = model.embedder.inputs[0] as Sym;
  const embedding = model.embedder.outputs[0] as Sym;
  const old = model.net.layers.filter((l) => l.name === LAYER_BNNECK || l.name === LAYER_CLASSIFIER);
  const bnneck = model.net.layers.find((l) => l.name === LAYER_BNNECK);
  const net = attachClassifier(input, embedding, spec, rng, bnneck);
  for (const l of old) for (const w of l.weights) w.dispose();
  return { spec, net, embedder: model.embedder };
}

/** Wraps a loaded [embedding, logits] LayersModel (e.g. from a checkpoint) as a ReidModel. */
export function reidModelFrom(net: tf.LayersModel, spec: ModelSpec): ReidModel {
  if (net.outputs.length !== 2) {
    throw new PulError('checkpoint.mismatch', `model has ${net.outputs.length} outputs; a pul network has 2 (embedding, logits)`);
  }
  return { spec, net, embedder: tf.model({ inputs: net.inputs, outputs: net.outputs[0] as Sym }) };
}

/** Trainable parameters (PyTorch's count: BN running statistics excluded). */
export function countTrainableParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}

/** Releases every weight of the model (embedder shares them). */
export function disposeModel(model: ReidModel): void {
  model.net.dispose();
}
