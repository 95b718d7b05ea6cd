/**
 * What the stages of one PUL process share: the resolved configuration, the run folder's layout, the
 * data sets (loaded once, lazily) and one image reader. Models, features, clusterings and selections
 * go through files in the run folder, so a resumed run needs nothing from a previous process's memory.
 */
import path from 'node:path';
import { PulError } from '../core/errors.js';
import type { PipelineConfig } from '../config/schema.js';
import { ImageReader, defaultNormalization, type Normalization } from '../datasets/images.js';
import { loadDataset } from '../datasets/load-dataset.js';
import { clustersFor } from '../clustering/clustering.js';
import type { Dataset, Sample } from '../datasets/sample.js';
import { screenImages } from '../datasets/summary.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import type { ModelSpec } from '../model/build-model.js';
import { modelSpecFor } from '../model/model-choice.js';
import { readCheckpoint } from '../checkpoints/load-checkpoint.js';
import { SKIPPED_IMAGES } from './skipped-images.js';
import { drawsIdentities, type SamplerName } from '../datasets/samplers.js';
import { smartMiningSteps } from '../mining/smart-mining-source.js';
import { checkSamplerFeed, lossBatchStructure, lossNeeds, resolveLossSpec, type LossTerm } from '../training/objective.js';

/** The samples a PUL run works on. */
export interface PulData {
  /** Labelled source training images (empty without data.source) and their class of each. */
  readonly source: LabelledSamples;
  /** The target's training images: clustered without their labels (pids, when present, only measure). */
  readonly target: readonly Sample[];
  /** The target's test split (empty when it has none). */
  readonly query: readonly Sample[];
  readonly gallery: readonly Sample[];
  /** Semi mode: the labelled part of the target (empty otherwise). */
  readonly labeled: LabelledSamples;
  /** Images left out because they cannot be decoded (data.skipBad; empty otherwise). */
  readonly skipped: readonly Sample[];
}

/** Samples with a contiguous class index 0..C−1 each; `pids[c]` is the identity of class c. */
export interface LabelledSamples {
  readonly samples: readonly Sample[];
  readonly classes: Int32Array;
  readonly pids: readonly number[];
}

/** The folder name of a round (1-based): round-01, round-02, …; round 0 lives in `source`. */
export const roundName = (round: number): string => `round-${String(round).padStart(2, '0')}`;

/** The model of a run with `classes` outputs; a bad choice names the config key. */
function pulModelSpec(config: PipelineConfig, classes: number): ModelSpec {
  return modelSpecFor(config.model, classes);
}

/** The clusters k-means looks for: K less the labelled identities of semi mode, checked to fit the target's images. */
function checkK(c: PipelineConfig, targetImages: number, labelledIds: number): number {
  return clustersFor(pulK(c), targetImages, `the target's training images (${c.data.target.path})`, labelledIds);
}

/** clustering.k of a PUL run (the schema requires it for method 'pul'). */
export function pulK(c: PipelineConfig): number {
  if (c.clustering.k === undefined) throw new PulError('config.invalid', "clustering.k: required by method 'pul' (the number of k-means clusters)", { option: 'clustering.k' });
  return c.clustering.k;
}

/**
 * Checks what the configuration alone tells, before anything is written or generated: the mode has its
 * data sets, the model name is known, a given source checkpoint is of the configured architecture and
 * input, and — when the target is the demo set still to be generated — K fits its size.
 */
/** The loss of the retraining stage (training.loss, or ce+β*cluster from clusterLossWeight). */
export function retrainingLoss(c: PipelineConfig): LossTerm[] {
  return resolveLossSpec(c.training.loss, c.training.clusterLossWeight);
}

/** The retraining's sampler: training.sampler, else P×K when the loss has a pair/triplet term, else epoch. */
export function retrainingSampler(c: PipelineConfig, loss: readonly LossTerm[]): SamplerName {
  return c.training.sampler ?? (lossBatchStructure(loss) === 'pk' ? 'pk' : 'epoch');
}

export async function checkPulConfig(c: PipelineConfig, syntheticTarget: { train: number } | null): Promise<void> {
  if (c.mode === 'semi' && c.data.labeled === undefined) throw new PulError('config.invalid', "mode 'semi' needs data.labeled: the labelled part of the target", { option: 'data.labeled' });
  if (c.mode === 'unsupervised' && c.data.labeled !== undefined) throw new PulError('config.invalid', "data.labeled is only used in mode 'semi'", { option: 'data.labeled' });
  const spec = pulModelSpec(c, 1);
  if (c.method === 'cluster-contrast') {
    if (c.mode === 'semi') throw new PulError('config.invalid', "method 'cluster-contrast' runs on an unlabelled target only: mode 'semi' is PUL's", { option: 'method' });
    await checkSourceCheckpoint(c, spec);
    return;
  }
  if (lossNeeds(retrainingLoss(c), 'memory')) throw new PulError('config.invalid', `training.loss ${c.training.loss ?? ''}: cluster-memory needs method 'cluster-contrast' (--method cluster-contrast)`, { option: 'training.loss' });
  const loss = retrainingLoss(c);
  const sampler = retrainingSampler(c, loss);
  checkSamplerFeed(loss, sampler, 'training.sampler');
  if (sampler === 'smart') smartMiningSteps(c.training.batchSize, null); // a batch of whole groups of 4, before any work
  // a P×K batch draws P pseudo-identities: k clusters (+ the labelled identities in semi mode) must allow it
  if (drawsIdentities(sampler, lossBatchStructure(loss)) && c.data.labeled === undefined && c.training.pk.p > pulK(c)) {
    throw new PulError('config.invalid', `training.pk P=${c.training.pk.p} identities per batch, but clustering.k=${c.clustering.k} pseudo-identities; lower P or raise k`, { option: 'training.pk' });
  }
  if (syntheticTarget !== null && c.data.labeled === undefined) checkK(c, syntheticTarget.train, 0);
  await checkSourceCheckpoint(c, spec);
}

/** A given source checkpoint must hold the configured architecture and input. */
async function checkSourceCheckpoint(c: PipelineConfig, spec: ModelSpec): Promise<void> {
  const given = c.model.sourceCheckpoint;
  if (given !== undefined) {
    const { manifest } = await readCheckpoint(given);
    const i = manifest.model.input;
    if (manifest.model.architecture !== spec.architecture || i.height !== spec.input.height || i.width !== spec.input.width || i.channels !== spec.input.channels) {
      throw new PulError(
        'checkpoint.mismatch',
        `${given} holds a ${manifest.model.architecture} net for ${i.height}×${i.width}×${i.channels} images, but the run is configured for ${spec.architecture} at ${spec.input.height}×${spec.input.width}×${spec.input.channels} (model.name / model.input)`,
        { file: given, option: 'model.sourceCheckpoint' },
      );
    }
  }
}

export class PulSession {
  readonly reader = new ImageReader();
  private loaded: Promise<PulData> | null = null;

  constructor(
    readonly runDir: string,
    readonly config: PipelineConfig,
    private readonly progress: ProgressSink = silentProgress,
  ) {}

  /** `<run>/round-NN` (round 0: the source model and baseline live in `<run>/source`). */
  roundDir(round: number): string {
    return path.join(this.runDir, round === 0 ? 'source' : roundName(round));
  }

  /** The final checkpoint of a round (0 = the source model). */
  checkpointDir(round: number): string {
    return path.join(this.roundDir(round), 'checkpoint');
  }

  /** The checkpoint name relative to the run folder (what latest.json holds). */
  checkpointName(round: number): string {
    return path.relative(this.runDir, this.checkpointDir(round));
  }

  /** The model of this run with `classes` outputs (architecture, sizes and head from the config). */
  modelSpec(classes: number): ModelSpec {
    return pulModelSpec(this.config, classes);
  }

  /** Pixel normalisation: the config's, else ImageNet statistics for RGB and x/255 for grey. */
  normalization(channels: 1 | 3): Normalization {
    return this.config.model.normalization ?? defaultNormalization(channels);
  }

  /** Clusters k-means looks for on the unlabelled target: K, minus the labelled identities in semi mode (`offset`). */
  async unlabelledK(): Promise<{ k: number; offset: number }> {
    const data = await this.data();
    const offset = data.labeled.pids.length;
    return { k: checkK(this.config, data.target.length, offset), offset };
  }

  /** Checks what needs the data sets (loaded here, once): K fits the target and leaves room beside the labelled set. */
  async preflight(): Promise<void> {
    if (this.config.method === 'cluster-contrast') await this.data();
    else await this.unlabelledK();
  }

  data(): Promise<PulData> {
    this.loaded ??= this.load();
    return this.loaded;
  }

  private async load(): Promise<PulData> {
    const { source, target, labeled, allowOutside, check, skipBad } = this.config.data;
    const open = async (ref: NonNullable<typeof source>, key: string): Promise<Dataset> => {
      try {
        return await loadDataset(ref.path, { reader: this.reader, allowOutside, ...(ref.format ? { format: ref.format } : {}), ...(ref.classes ? { classes: ref.classes } : {}) });
      } catch (err) {
        if (err instanceof PulError) throw new PulError(err.code, `${key} (${ref.path}): ${err.message}`, err.where ?? { file: ref.path }, { cause: err });
        throw err;
      }
    };
    const targetSet = await open(target, 'data.target');
    const sourceSet = source ? await open(source, 'data.source') : null;
    const labeledSet = labeled ? await open(labeled, 'data.labeled') : null;
    const labelledTrain = (set: Dataset | null): Sample[] => (set === null ? [] : set.samples.filter((s) => s.split === 'train' && s.pid !== null));
    // every image the run will read, decoded once before any training when asked (data.check / data.skipBad)
    let skipped: readonly Sample[] = [];
    if (check || skipBad) {
      const used = [...labelledTrain(sourceSet), ...targetSet.samples, ...labelledTrain(labeledSet)];
      const hint = 'leave them out with --skip-bad (data.skipBad), or fix or remove the files';
      skipped = (await screenImages(used, skipBad ? 'skip' : 'check', { reader: this.reader, progress: this.progress, hint })).skipped;
      if (skipped.length > 0) this.progress.log(`skipping ${skipped.length} image(s) that cannot be decoded (first: ${skipped[0]!.path}), listed in ${path.join(this.runDir, SKIPPED_IMAGES)}`);
    }
    const bad = new Set(skipped.map((s) => s.path));
    const usable = (samples: readonly Sample[]): Sample[] => samples.filter((s) => !bad.has(s.path));
    const train = usable(targetSet.samples.filter((s) => s.split === 'train'));
    if (train.length === 0) throw new PulError('dataset.empty', `data.target (${target.path}) has no training images to cluster`, { file: target.path });
    const labelled = (set: Dataset | null, key: string): LabelledSamples => {
      if (set === null) return { samples: [], classes: new Int32Array(0), pids: [] };
      const samples = usable(labelledTrain(set));
      if (samples.length === 0) throw new PulError('dataset.empty', `${key} (${set.root}) has no labelled training images`, { file: set.root });
      const pids = [...new Set(samples.map((s) => s.pid as number))].sort((a, b) => a - b);
      const index = new Map(pids.map((p, i) => [p, i]));
      return { samples, classes: Int32Array.from(samples, (s) => index.get(s.pid as number)!), pids };
    };
    return {
      source: labelled(sourceSet, 'data.source'),
      target: train,
      query: usable(targetSet.samples.filter((s) => s.split === 'query')),
      gallery: usable(targetSet.samples.filter((s) => s.split === 'gallery')),
      labeled: labelled(labeledSet, 'data.labeled'),
      skipped,
    };
  }
}
