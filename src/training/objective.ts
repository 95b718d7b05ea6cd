/**
 * What a training step minimises, chosen by a loss spec: `term('+'term)*`, term = `[weight'*']name`
 * (`ce`, `ce+triplet-hard`, `ce+0.5*cluster`, `lifted`). The LOSSES table maps each name to what it
 * needs, the sampler it wants and how it is computed, so adding a loss is one entry (+ its import).
 */
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { centerLoss, updateCentres } from '../losses/center-loss.js';
import { clusterLoss, l2NormalizeRows } from '../losses/cluster-loss.js';
import { checkClusterMemoryOptions, clusterMemoryLoss, updateClusterMemory, type ClusterMemoryOptions } from '../losses/cluster-memory.js';
import { contrastiveLoss } from '../losses/contrastive.js';
import { crossEntropy } from '../losses/cross-entropy.js';
import { globalLoss } from '../losses/global-loss.js';
import { hashingLoss } from '../losses/hashing.js';
import { liftedStructuredLoss } from '../losses/lifted-structured.js';
import type { LossValue } from '../losses/loss-value.js';
import { nPairLoss } from '../losses/n-pair.js';
import { tripletBatchAll } from '../losses/triplet-batch-all.js';
import { tripletBatchHard } from '../losses/triplet-batch-hard.js';
import { tripletRandom } from '../losses/triplet-random.js';
import { tripletSoftmaxWeighted } from '../losses/triplet-softmax-weighted.js';

/** What a loss reads besides the labels: the classifier's logits, the embedding, the round's k-means centroids, the objective's own class centres, the cluster memory. */
export type LossNeed = 'logits' | 'embedding' | 'centroids' | 'centres' | 'memory';

/** The batch structure a loss wants: P identities × K images ('pk', the pair/triplet family) or a plain pass over the images ('epoch'). */
export type BatchStructure = 'pk' | 'epoch';

/** One training step's tensors, as the objective sees them. */
export interface LossInputs {
  /** N×D, the embedding layer's output (before the BNNeck). */
  readonly embeddings: tf.Tensor2D;
  /** N×K classifier outputs. */
  readonly logits: tf.Tensor2D;
  /** N class indices (int32). */
  readonly labels: tf.Tensor1D;
  /** The step's own seed (random mining draws from it: a resumed run repeats them). Default 0. */
  readonly seed?: number;
  /** This batch's margin (TrainBatch.margin: the smart miner's controller), over the objective's. */
  readonly margin?: number;
}

/** Settings and state a loss may read. */
export interface LossContext {
  readonly labelSmoothing: number;
  /** The user's margin; undefined = each loss's own default. */
  readonly margin: number | undefined;
  /** K×D, L2-normalised (needs 'centroids'). */
  readonly centroids: tf.Tensor2D | null;
  /** K×D class centres of the centre loss (needs 'centres'). */
  readonly centres: tf.Tensor2D | null;
  /** K×D L2-normalised cluster memory and its τ (needs 'memory'). */
  readonly memory: tf.Tensor2D | null;
  readonly temperature: number;
}

/** A registered loss: what it needs, the batches it wants, and its value. */
export interface LossEntry {
  readonly needs: readonly LossNeed[];
  readonly sampler: BatchStructure;
  /** One line for help and errors. */
  readonly about: string;
  /** Whether `run` gives each row's own term (LossValue.perAnchor), which the loss-guided sampler learns from. */
  readonly perAnchor?: boolean;
  readonly run: (x: LossInputs, ctx: LossContext) => LossValue;
}

/** The user's margin as a loss option (absent: the loss's own default). */
const margin = (c: LossContext): { margin?: number } => (c.margin === undefined ? {} : { margin: c.margin });

/** The losses by name; `needs` and `sampler` are checked before any training. */
export const LOSSES = {
  ce: {
    needs: ['logits'],
    sampler: 'epoch',
    about: 'softmax cross-entropy on the classifier (label smoothing ε)',
    run: (x, c) => ({ loss: crossEntropy(x.logits, x.labels, { labelSmoothing: c.labelSmoothing }) }),
  },
  cluster: {
    needs: ['embedding', 'centroids'],
    sampler: 'epoch',
    about: "PUL's cluster term: normalised embedding to its round's k-means centroid (pul run only)",
    run: (x, c) => ({ loss: clusterLoss(x.embeddings, x.labels, c.centroids as tf.Tensor2D) }),
  },
  center: {
    needs: ['embedding', 'centres'],
    sampler: 'epoch',
    about: 'center loss (Wen et al. 2016): embedding to its class centre, centres moved with rate α',
    run: (x, c) => centerLoss(x.embeddings, x.labels, c.centres as tf.Tensor2D),
  },
  contrastive: {
    needs: ['embedding'],
    sampler: 'pk',
    about: 'contrastive loss (Hadsell et al. 2006) over every pair of the batch',
    run: (x, c) => contrastiveLoss(x.embeddings, x.labels, margin(c)),
  },
  'triplet-hard': {
    needs: ['embedding'],
    sampler: 'pk',
    perAnchor: true,
    about: 'triplet loss, batch-hard mining (Hermans et al. 2017), margin 0.3',
    run: (x, c) => tripletBatchHard(x.embeddings, x.labels, margin(c)),
  },
  'triplet-soft': {
    needs: ['embedding'],
    sampler: 'pk',
    perAnchor: true,
    about: 'batch-hard triplet loss with the soft margin softplus(d_ap − d_an) (Hermans et al. 2017)',
    run: (x) => tripletBatchHard(x.embeddings, x.labels, { margin: 'soft' }),
  },
  'triplet-all': {
    needs: ['embedding'],
    sampler: 'pk',
    perAnchor: true,
    about: 'triplet loss over every valid triplet of the batch, mean over the non-zero ones (batch-all)',
    run: (x, c) => tripletBatchAll(x.embeddings, x.labels, margin(c)),
  },
  'triplet-weighted': {
    needs: ['embedding'],
    sampler: 'pk',
    perAnchor: true,
    about: 'triplet loss with softmax-weighted positives and negatives (fast-reid)',
    run: (x, c) => tripletSoftmaxWeighted(x.embeddings, x.labels, margin(c)),
  },
  'triplet-random': {
    needs: ['embedding'],
    sampler: 'pk',
    perAnchor: true,
    about: 'triplet loss with one random positive and negative per anchor (the baseline of mining)',
    run: (x, c) => tripletRandom(x.embeddings, x.labels, { ...margin(c), seed: x.seed ?? 0 }),
  },
  lifted: {
    needs: ['embedding'],
    sampler: 'pk',
    about: 'lifted structured loss (Oh Song et al. 2016), margin 1',
    run: (x, c) => liftedStructuredLoss(x.embeddings, x.labels, margin(c)),
  },
  npair: {
    needs: ['embedding'],
    sampler: 'pk',
    about: 'multi-class N-pair loss (Sohn 2016) on a P×K batch',
    run: (x) => nPairLoss(x.embeddings, x.labels),
  },
  global: {
    needs: ['embedding'],
    sampler: 'pk',
    about: 'global loss (Kumar B G et al. 2016): means and variances of the positive and negative distances',
    run: (x, c) => globalLoss(x.embeddings, x.labels, margin(c)),
  },
  hash: {
    needs: ['embedding'],
    sampler: 'pk',
    about: 'DSH hashing loss (Liu et al. 2016) for a --hash-bits head: pairs pulled together / pushed beyond m = 2B, outputs to ±1, balanced bits',
    run: (x, c) => hashingLoss(x.embeddings, x.labels, margin(c)),
  },
  'cluster-memory': {
    needs: ['embedding', 'memory'],
    sampler: 'pk',
    about: 'Cluster-Contrast (Dai et al. 2021): InfoNCE against a momentum memory of cluster centroids, τ 0.05 (pul run --method cluster-contrast only)',
    run: (x, c) => ({ loss: clusterMemoryLoss(x.embeddings, x.labels, c.memory as tf.Tensor2D, { temperature: c.temperature }) }),
  },
} as const satisfies Record<string, LossEntry>;

/** A registered loss name. */
export type LossName = keyof typeof LOSSES;

/** The names `--loss` accepts, in table order. */
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

/** One term of a loss spec: weight · loss. */
export interface LossTerm {
  readonly name: LossName;
  readonly weight: number;
}

const isLossName = (name: string): name is LossName => Object.hasOwn(LOSSES, name);

/**
 * Parses a loss spec (`ce`, `ce+triplet-hard`, `ce+0.5*cluster`): terms joined by '+', each an optional
 * positive weight and '*' before a registered name; a name may appear once. Errors name `option`.
 *
 * @example
 * ```ts
 * parseLossSpec('ce+0.5*cluster'); // [{ name: 'ce', weight: 1 }, { name: 'cluster', weight: 0.5 }]
 * ```
 */
export function parseLossSpec(text: string, option = 'training.loss'): LossTerm[] {
  const terms: LossTerm[] = [];
  const parts = text.split('+').map((p) => p.trim());
  for (const part of parts) {
    if (part === '') throw new PulError('option.invalid', `loss "${text}" has an empty term; write terms as [weight*]name joined by + (e.g. ce+0.5*triplet-hard)`, { option });
    const star = part.lastIndexOf('*');
    const name = part.slice(star + 1).trim();
    let weight = 1;
    if (star >= 0) {
      const w = part.slice(0, star).trim();
      weight = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(w) ? Number(w) : Number.NaN;
      if (!(weight > 0 && Number.isFinite(weight))) {
        throw new PulError('option.invalid', `loss "${text}": weight "${w}" of ${name || 'a term'} must be a positive number (e.g. 0.5*${name || 'triplet-hard'})`, { option });
      }
    }
    if (!isLossName(name)) {
      throw new PulError('option.invalid', `loss "${text}": unknown loss "${name}"; known losses: ${LOSS_NAMES.join(', ')}`, { option });
    }
    if (terms.some((t) => t.name === name)) throw new PulError('option.invalid', `loss "${text}" names ${name} twice; give it one weight`, { option });
    terms.push({ name, weight });
  }
  return terms;
}

/** The canonical text of a spec (weights of 1 left out): what checkpoints and run.json record. */
export function formatLossSpec(terms: readonly LossTerm[]): string {
  return terms.map((t) => (t.weight === 1 ? t.name : `${t.weight}*${t.name}`)).join('+');
}

/** Whether any term of the spec needs `need`. */
export function lossNeeds(terms: readonly LossTerm[], need: LossNeed): boolean {
  return terms.some((t) => (LOSSES[t.name].needs as readonly LossNeed[]).includes(need));
}

/**
 * Refuses a sampler the spec cannot feed: loss-guided learns from each row's own loss term, which
 * only some losses give (LossEntry.perAnchor). `option` is named in the error.
 */
export function checkSamplerFeed(terms: readonly LossTerm[], sampler: string, option: string): void {
  if (sampler === 'loss-guided' && !terms.some((t) => (LOSSES[t.name] as LossEntry).perAnchor === true)) {
    const feeding = LOSS_NAMES.filter((n) => (LOSSES[n] as LossEntry).perAnchor === true);
    throw new PulError(
      'option.invalid',
      `sampler loss-guided learns from each image's own loss term, which ${formatLossSpec(terms)} does not give; ${feeding.length > 0 ? `add a loss that does (${feeding.join(', ')})` : 'no registered loss gives one yet'}, or choose another sampler`,
      { option },
    );
  }
}

/** The batch structure a spec wants: P×K when any term is of the pair/triplet family. */
export function lossBatchStructure(terms: readonly LossTerm[]): BatchStructure {
  return terms.some((t) => LOSSES[t.name].sampler === 'pk') ? 'pk' : 'epoch';
}

/** Options of an Objective besides its terms. */
export interface ObjectiveOptions {
  /** ε of the cross-entropy; default 0. */
  readonly labelSmoothing?: number;
  /** Margin of the margin losses; default each loss's own. */
  readonly margin?: number;
  /** K×D centroids of the round (the cluster term); L2-normalised here, fixed during training. */
  readonly centroids?: FeatureMatrix | null;
  /** Classes K and embedding size D: the centre loss keeps K×D centres. */
  readonly classes?: number;
  readonly embeddingDim?: number;
  /** α of the centre update; default 0.5 (Wen et al.). */
  readonly centreRate?: number;
  /** The option the spec came from, named in errors (`--loss`, `training.loss`). */
  readonly option?: string;
  /** The cluster memory's starting centroids (K×D, normalised here) and its τ, momentum and update (the cluster-memory term). */
  readonly memory?: ({ readonly centroids: FeatureMatrix } & ClusterMemoryOptions) | null;
}

/** A tensor with a name (the optimiser-state format checkpoints store). */
export interface NamedState {
  readonly name: string;
  readonly tensor: tf.Tensor;
}

const CENTRES = 'objective/centres';
const MEMORY = 'objective/memory';

/**
 * The weighted sum of a spec's losses, and the state some of them keep (the centre loss's centres).
 * `compute` runs inside the trainer's gradient tape; `afterStep` moves the centres; `state`/`restore`
 * carry that state through a checkpoint so a resumed run continues exactly.
 *
 * @example
 * ```ts
 * const objective = new Objective(parseLossSpec('ce+triplet-hard'), { margin: 0.3 });
 * const trainer = new Trainer(model, { epochs: 6, optimizer: { type: 'adam', lr: 3e-4 }, objective });
 * ```
 */
export class Objective {
  /** The canonical spec text. */
  readonly text: string;
  private readonly centroids: tf.Tensor2D | null;
  private centres: tf.Tensor2D | null;
  private memory: tf.Tensor2D | null;
  private readonly memoryOptions: Required<ClusterMemoryOptions>;
  private readonly margin: number | undefined;
  private readonly labelSmoothing: number;
  private readonly centreRate: number;

  constructor(
    readonly terms: readonly LossTerm[],
    opts: ObjectiveOptions = {},
  ) {
    const option = opts.option ?? 'training.loss';
    if (terms.length === 0) throw new PulError('option.invalid', 'the loss has no term', { option });
    this.text = formatLossSpec(terms);
    const eps = opts.labelSmoothing ?? 0;
    if (!(eps >= 0 && eps < 1)) throw new PulError('option.outOfRange', `labelSmoothing=${eps} must be in [0, 1)`, { option: 'labelSmoothing' });
    this.labelSmoothing = eps;
    if (opts.margin !== undefined && !(opts.margin >= 0 && Number.isFinite(opts.margin))) throw new PulError('option.outOfRange', `margin=${opts.margin} must be a finite number ≥ 0`, { option: 'margin' });
    this.margin = opts.margin;
    this.centreRate = opts.centreRate ?? 0.5;
    if (!(this.centreRate > 0 && this.centreRate <= 1)) throw new PulError('option.outOfRange', `centre rate α=${this.centreRate} must be in (0, 1]`, { option: 'centreRate' });
    const c = opts.centroids ?? null;
    if (lossNeeds(terms, 'centroids') && c === null) {
      throw new PulError('option.invalid', `loss ${this.text}: cluster needs the round's k-means centroids, which only pul run's retraining has (use training.loss there, or another loss)`, { option });
    }
    if (c !== null && opts.embeddingDim !== undefined && c.dim !== opts.embeddingDim) {
      throw new PulError('features.mismatch', `centroids have dim ${c.dim}, the model's embedding ${opts.embeddingDim}`);
    }
    if (lossNeeds(terms, 'centres') && !(Number.isInteger(opts.classes) && Number.isInteger(opts.embeddingDim))) {
      throw new PulError('option.invalid', `loss ${this.text}: center needs the class count and embedding size (ObjectiveOptions.classes, embeddingDim)`, { option });
    }
    this.centroids = c === null || !lossNeeds(terms, 'centroids') ? null : tf.tidy(() => l2NormalizeRows(tf.tensor2d(c.data, [c.rows, c.dim])));
    // Wen et al. start the centres at zero and move them towards the class means
    this.centres = lossNeeds(terms, 'centres') ? tf.zeros([opts.classes as number, opts.embeddingDim as number]) : null;
    const m = opts.memory ?? null;
    if (lossNeeds(terms, 'memory') && m === null) {
      throw new PulError('option.invalid', `loss ${this.text}: cluster-memory needs the clusters' centroids, which only pul run --method cluster-contrast has`, { option });
    }
    if (m !== null && opts.embeddingDim !== undefined && m.centroids.dim !== opts.embeddingDim) {
      throw new PulError('features.mismatch', `memory centroids have dim ${m.centroids.dim}, the model's embedding ${opts.embeddingDim}`);
    }
    this.memoryOptions = checkClusterMemoryOptions(m ?? {}, 'clusterContrast.');
    this.memory = m === null || !lossNeeds(terms, 'memory') ? null : tf.tidy(() => l2NormalizeRows(tf.tensor2d(m.centroids.data, [m.centroids.rows, m.centroids.dim])));
  }

  /** Whether the classifier is trained (its accuracy means something). */
  get usesLogits(): boolean {
    return lossNeeds(this.terms, 'logits');
  }

  /** The batch structure the terms want (P×K for the pair/triplet family). */
  get batchStructure(): BatchStructure {
    return lossBatchStructure(this.terms);
  }

  /** Σ weight · term; activeShare = mean of the terms' shares, perAnchor = Σ weight · perAnchor of the terms that have one. */
  compute(x: LossInputs): LossValue {
    const ctx: LossContext = { labelSmoothing: this.labelSmoothing, margin: x.margin ?? this.margin, centroids: this.centroids, centres: this.centres, memory: this.memory, temperature: this.memoryOptions.temperature };
    // a tidy returning an object keeps exactly the tensors in it
    return tf.tidy(() => {
      const values = this.terms.map((t) => ({ weight: t.weight, value: (LOSSES[t.name] as LossEntry).run(x, ctx) }));
      const weighted = values.map(({ weight, value }) => (weight === 1 ? value.loss : tf.mul<tf.Scalar>(value.loss, weight)));
      const shares = values.flatMap(({ value }) => (value.activeShare ? [value.activeShare] : []));
      const rows = values.flatMap(({ weight, value }) => (value.perAnchor ? [weight === 1 ? value.perAnchor : tf.mul<tf.Tensor1D>(value.perAnchor, weight)] : []));
      const result: Record<string, tf.Tensor> = { loss: weighted.length === 1 ? weighted[0]! : tf.addN(weighted) };
      if (shares.length > 0) result['activeShare'] = shares.length === 1 ? shares[0]! : tf.div(tf.addN(shares), shares.length);
      if (rows.length > 0) result['perAnchor'] = rows.length === 1 ? rows[0]! : tf.addN(rows);
      return result;
    }) as unknown as LossValue;
  }

  /** After the optimiser step: the centre loss moves its centres towards this batch's embeddings (rate α), the cluster memory its centroids (momentum m). */
  afterStep(embeddings: tf.Tensor2D, labels: tf.Tensor1D): void {
    if (this.centres !== null) {
      const next = updateCentres(embeddings, labels, this.centres, { alpha: this.centreRate });
      this.centres.dispose();
      this.centres = next;
    }
    if (this.memory !== null) {
      const next = updateClusterMemory(embeddings, labels, this.memory, this.memoryOptions);
      this.memory.dispose();
      this.memory = next;
    }
  }

  /** Whether afterStep does anything (the trainer keeps the embeddings for it only then). */
  get stateful(): boolean {
    return this.centres !== null || this.memory !== null;
  }

  /** The state to checkpoint (copies, the caller disposes them), named `objective/…`. */
  state(): NamedState[] {
    return [...(this.centres === null ? [] : [{ name: CENTRES, tensor: tf.clone(this.centres) }]), ...(this.memory === null ? [] : [{ name: MEMORY, tensor: tf.clone(this.memory) }])];
  }

  /** Restores `state()` entries (others are ignored); a missing entry keeps the fresh state. */
  restore(entries: readonly NamedState[]): void {
    const take = (name: string, current: tf.Tensor2D | null): tf.Tensor2D | null => {
      const saved = entries.find((e) => e.name === name);
      if (saved === undefined || current === null) return current;
      if (saved.tensor.shape.join('×') !== current.shape.join('×')) {
        throw new PulError('checkpoint.mismatch', `saved ${name.slice('objective/'.length)} are ${saved.tensor.shape.join('×')}, this training's ${current.shape.join('×')}`);
      }
      current.dispose();
      return tf.clone(saved.tensor) as tf.Tensor2D;
    };
    this.centres = take(CENTRES, this.centres);
    this.memory = take(MEMORY, this.memory);
  }

  dispose(): void {
    tf.dispose([...(this.centroids ? [this.centroids] : []), ...(this.centres ? [this.centres] : []), ...(this.memory ? [this.memory] : [])]);
    this.centres = null;
    this.memory = null;
  }
}

/** Whether a named state entry belongs to an Objective (checkpoints store it beside the optimiser's). */
export const isObjectiveState = (name: string): boolean => name.startsWith('objective/');

/**
 * The loss of PUL's retraining from the config's two keys: `loss` (a spec) and the older
 * `clusterLossWeight` β, which means `ce+β*cluster`. Neither given: `ce`. Both given, they must agree
 * (the spec has a cluster term of weight β), else a named error.
 */
export function resolveLossSpec(loss: string | undefined, clusterLossWeight: number, option = 'training.loss'): LossTerm[] {
  if (loss === undefined) return clusterLossWeight > 0 ? [{ name: 'ce', weight: 1 }, { name: 'cluster', weight: clusterLossWeight }] : [{ name: 'ce', weight: 1 }];
  const terms = parseLossSpec(loss, option);
  const cluster = terms.find((t) => t.name === 'cluster');
  if (clusterLossWeight > 0 && cluster?.weight !== clusterLossWeight) {
    throw new PulError(
      'config.invalid',
      `training.loss "${loss}" and training.clusterLossWeight ${clusterLossWeight} disagree: clusterLossWeight β means ce+β*cluster; give the cluster weight in the loss only (e.g. ${formatLossSpec([...terms.filter((t) => t.name !== 'cluster'), { name: 'cluster', weight: clusterLossWeight }])})`,
      { option: 'training.clusterLossWeight' },
    );
  }
  return terms;
}
