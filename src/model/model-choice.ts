/**
 * What a user names as the network — a preset (`reid`, `resnet18`, …) or `layers:<path>` (any tfjs
 * LayersModel on disk as the backbone) plus overrides — turned into a ModelSpec. One place, so `pul
 * train` and `pul run` accept the same names and report a missing piece by the same option name.
 */
import { PulError } from '../core/errors.js';
import { modelPreset, type ModelSpec } from './build-model.js';
import type { InitKind } from './initializers.js';

export const LAYERS_MODEL_PREFIX = 'layers:';

/** The classifier initialisers as configs and flags spell them. */
export const CLASSIFIER_INIT_OPTIONS = ['glorot', 'normal-0.001'] as const;
export type ClassifierInitOption = (typeof CLASSIFIER_INIT_OPTIONS)[number];

export function classifierInitKind(option: ClassifierInitOption): InitKind {
  return option === 'normal-0.001' ? 'normal0.001' : 'glorot';
}

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
}

/** How the caller spells each choice, so an error names what the user typed (a flag or a config key). */
export interface ModelChoiceNames {
  readonly name: string;
  readonly input: string;
  readonly featureLayer: string;
}

export const MODEL_CHOICE_FLAGS: ModelChoiceNames = { name: '--model', input: '--input', featureLayer: '--feature-layer' };

/** Defaults of a `layers:` backbone's head: the paper's classifier initialiser N(0, 0.001). */
const PRETRAINED_HEAD = { embeddingDim: 128, dropout: 0, classifierInit: 'normal0.001' } as const;

/** The spec of `choice` with `classes` outputs; a `layers:` model needs a feature layer and an input size. */
export function modelSpecFor(choice: ModelChoice, classes: number, names: ModelChoiceNames = MODEL_CHOICE_FLAGS): ModelSpec {
  const overrides = {
    ...(choice.input === undefined ? {} : { input: choice.input }),
    ...(choice.embeddingDim === undefined ? {} : { embeddingDim: choice.embeddingDim }),
    ...(choice.dropout === undefined ? {} : { dropout: choice.dropout }),
    ...(choice.classifierInit === undefined ? {} : { classifierInit: choice.classifierInit }),
  };
  if (!choice.name.startsWith(LAYERS_MODEL_PREFIX)) return { ...modelPreset(choice.name, names.name), ...overrides, classes };
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
