/**
 * What a user names as the network — a preset (`reid`, `resnet18`, …) or `layers:<path>` (any tfjs
 * LayersModel on disk as the backbone) plus overrides — turned into a ModelSpec. One place, so `pul
 * train` and `pul run` accept the same names and report a missing piece by the same config key.
 */
import { PulError } from '../core/errors.js';
import { modelPreset, type ModelSpec } from './build-model.js';
import { hashBitsProblem } from './hash-bits.js';
import type { InitKind } from './initializers.js';

/** A model name starting with this is a tfjs LayersModel on disk used as the backbone (`layers:PATH`). */
export const LAYERS_MODEL_PREFIX = 'layers:';

/** The network as a user names it (config model.*, `pul train --model …`): a preset or `layers:PATH`, plus overrides. */
export interface ModelChoice {
  /** A preset name, or `layers:` + a LayersModel folder or its model.json. */
  readonly name: string;
  readonly input?: ModelSpec['input'] | undefined;
  readonly embeddingDim?: number | undefined;
  readonly dropout?: number | undefined;
  readonly classifierInit?: InitKind | undefined;
  /** `layers:` only: the layer whose output is the backbone feature; required. */
  readonly featureLayer?: string | undefined;
  /** `layers:` only: keep the loaded weights fixed. */
  readonly freeze?: boolean | undefined;
  /** A hash head of this many bits: the embedding becomes hashBits units with tanh (replacing embeddingDim); a multiple of 8 in [8, 1024]. */
  readonly hashBits?: number | undefined;
  /** Global pooling: 'avg' (default) or 'gem', GeM's p and whether it is learnt. */
  readonly pooling?: 'avg' | 'gem' | undefined;
  readonly gem?: { readonly p: number; readonly learnable: boolean } | undefined;
  /** Ghost batch norm: BN statistics over chunks of this many images in training. */
  readonly ghostBatchSize?: number | undefined;
}

/** Defaults of a `layers:` backbone's head: the paper's classifier initialiser N(0, 0.001). */
const PRETRAINED_HEAD = { embeddingDim: 128, dropout: 0, classifierInit: 'normal-0.001' } as const;

/** The spec of `choice` with `classes` outputs; a `layers:` model needs a feature layer and an input size. */
export function modelSpecFor(choice: ModelChoice, classes: number): ModelSpec {
  // errors name the config keys (model.*); the CLI names its flags instead
  const names = { name: 'model.name', input: 'model.input', featureLayer: 'model.featureLayer' };
  if (choice.hashBits !== undefined) {
    // checked here, before any data is read or any training starts
    const problem = hashBitsProblem(choice.hashBits);
    if (problem !== null) throw new PulError('option.outOfRange', `model.hashBits: ${problem}`, { option: 'model.hashBits' });
  }
  const overrides = {
    ...(choice.input === undefined ? {} : { input: choice.input }),
    ...(choice.embeddingDim === undefined ? {} : { embeddingDim: choice.embeddingDim }),
    ...(choice.dropout === undefined ? {} : { dropout: choice.dropout }),
    ...(choice.classifierInit === undefined ? {} : { classifierInit: choice.classifierInit }),
    ...(choice.hashBits === undefined ? {} : { hashBits: choice.hashBits, embeddingDim: choice.hashBits }),
    ...(choice.pooling === undefined ? {} : { pooling: choice.pooling }),
    ...(choice.gem === undefined ? {} : { gem: choice.gem }),
    ...(choice.ghostBatchSize === undefined ? {} : { ghostBatchSize: choice.ghostBatchSize }),
  };
  if (!choice.name.startsWith(LAYERS_MODEL_PREFIX)) return { ...modelPreset(choice.name), ...overrides, classes };
  const path = choice.name.slice(LAYERS_MODEL_PREFIX.length);
  if (path === '') throw new PulError('option.invalid', `${names.name} "${choice.name}": give the LayersModel folder or model.json after "layers:"`, { option: names.name });
  if (choice.featureLayer === undefined) {
    throw new PulError('option.invalid', `${names.name} "${choice.name}" needs ${names.featureLayer} (the layer whose output is the backbone feature, e.g. a ResNet-50's global pool)`, { option: names.featureLayer });
  }
  if (choice.input === undefined) {
    throw new PulError('option.invalid', `${names.name} "${choice.name}" needs ${names.input} (the loaded model's input height, width and channels)`, { option: names.input });
  }
  return { architecture: 'pretrained', ...PRETRAINED_HEAD, ...overrides, input: choice.input, classes, pretrained: { path, featureLayer: choice.featureLayer, freeze: choice.freeze ?? false } };
}
