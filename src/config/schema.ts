/**
 * The PUL pipeline configuration (pipelines/*.json), validated by zod. Every key documents its default
 * and where it comes from: the paper (Fan et al., ACM TOMM 2018) or the authors' released code
 * (PUL/unsupervised.py), which differ; pul offers both as explicit options.
 */
import { lazySchema, z } from '../core/zod.js';
import { DATASET_FORMATS, type DatasetFormat } from '../datasets/sample.js';
import { AUGMENT_NAMES } from '../datasets/augment.js';
import { hashBitsProblem } from '../model/hash-bits.js';
import { CLASSIFIER_INITS } from '../model/initializers.js';
import { OPTIMIZER_TYPES } from '../training/optimizer.js';
import { LOSS_NAMES, resolveLossSpec } from '../training/objective.js';
import { SAMPLER_NAMES } from '../datasets/samplers.js';

const datasetRef = lazySchema(() => z
  .strictObject({
    path: z.string().min(1).describe('folder or file of the data set (Market-1501/Duke layout, MSMT17 lists, CSV manifest, IDX files, folder per identity)'),
    format: z.enum(DATASET_FORMATS as [DatasetFormat, ...DatasetFormat[]]).optional().describe('force a layout instead of detecting it'),
    classes: z.array(z.number().int()).optional().describe('IDX only: keep these labels (e.g. [5,6,7,8,9])'),
  })
  .describe('a data set'));

const optimizer = lazySchema(() => z
  .strictObject({
    type: z.enum(OPTIMIZER_TYPES).default('sgd').describe('default sgd (paper and code: SGD with momentum)'),
    lr: z.number().positive().default(0.01).describe('learning rate; default 0.01 (code: 0.001 from ImageNet weights; 0.01 trains the small nets from scratch)'),
    momentum: z.number().min(0).max(1).default(0.9).describe('SGD momentum; default 0.9 (paper and code)'),
    weightDecay: z.number().min(0).default(0).describe('L2 weight decay; default 0 (code)'),
  })
  .describe('optimizer'));

const lambdaSchedule = lazySchema(() => z
  .discriminatedUnion('schedule', [
    z.strictObject({
      schedule: z.literal('constant'),
      value: z.number().min(-1).max(1).default(0.85).describe('λ for every round; default 0.85 (code)'),
    }),
    z.strictObject({
      schedule: z.literal('growing'),
      start: z.number().min(-1).max(1).describe('λ of round 1 (paper: λ grows each round)'),
      step: z.number().min(0).describe('added each round'),
      max: z.number().min(-1).max(1).describe('upper bound'),
    }),
  ])
  .describe('reliability threshold λ on cosine similarity to an anchor'));

/** The zod schema of pipelines/*.json: every key, its default and where the default comes from. */
export const PipelineConfigSchema = lazySchema(() => z
  .strictObject({
    $schema: z.string().optional().describe('editor hint: the path of pipelines/schema.json'),
    name: z
      .string()
      .regex(/^[\w.-]+$/, 'letters, digits, _ . - only')
      .refine((n) => n !== '.' && n !== '..', 'one folder name: not . or ..')
      .default('pul')
      .describe('run name (one folder name); outputs go to <out>/<name>'),
    method: z
      .enum(['pul', 'cluster-contrast'])
      .default('pul')
      .describe("'pul': k-means, reliable selection and fine-tuning rounds (Fan et al. 2018); 'cluster-contrast': every epoch DBSCAN on k-reciprocal Jaccard distances, noise dropped, one epoch of the cluster-memory contrastive loss (Dai et al. 2021; clusterContrast)"),
    mode: z.enum(['unsupervised', 'semi']).default('unsupervised').describe("'unsupervised': source model → unlabelled target; 'semi': also a labelled subset every round (the code's semi-supervised script)"),
    seed: z.number().int().min(0).default(0).describe('seed of every random choice (initialisation, k-means, sampling, augmentation)'),
    out: z.string().default('checkpoints').describe('folder for runs'),
    backend: z.enum(['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']).default('auto').describe('compute backend'),
    data: z.strictObject({
      source: datasetRef.optional().describe('labelled source set: trains the source model when model.sourceCheckpoint is not given'),
      target: datasetRef.describe('the target camera network: its training images are clustered unlabelled; its query/gallery split, when present, measures progress'),
      labeled: datasetRef.optional().describe("semi mode: the labelled part of the target"),
      synthetic: z
        .strictObject({
          out: z.string().min(1).describe('folder of the generated set (gets source/ and target/)'),
          seed: z.number().int().min(0).default(0).describe('generator seed'),
        })
        .optional()
        .describe('generate the built-in synthetic re-ID set here on first use (the demo); source/target paths then point into it'),
      check: z.boolean().default(false).describe('decode every image of every set before any training and stop, listing them, if some cannot be decoded (--check)'),
      skipBad: z.boolean().default(false).describe('decode every image before any training and leave the corrupt ones out, listed in <run>/skipped-images.csv (--skip-bad)'),
      allowOutside: z.boolean().default(false).describe("accept manifest (CSV, MSMT17 list) paths that leave the manifest's folder (--allow-outside)"),
    }),
    model: z.strictObject({
      name: z.string().default('reid').describe("backbone: 'fmnist' or 'reid' (the peer SmallCNNs), 'resnet18', 'resnet34', or 'layers:<folder or model.json>' for any tfjs LayersModel"),
      sourceCheckpoint: z.string().optional().describe('start from this checkpoint instead of training on data.source'),
      embeddingDim: z.number().int().positive().default(128).describe('embedding (retrieval feature) size; default 128 (paper: 2048-d ResNet-50 pool features)'),
      hashBits: z.number().int().refine((b) => hashBitsProblem(b) === null, 'must be a multiple of 8 in [8, 1024]').optional().describe('a hash head: the embedding becomes this many tanh units (replacing embeddingDim), sign() of it the binary code; a multiple of 8 in [8, 1024] (DSH, Liu et al. 2016)'),
      dropout: z.number().min(0).max(1).default(0.5).describe('dropout before the classifier; default 0.5 (code)'),
      classifierInit: z.enum(CLASSIFIER_INITS).default('normal-0.001').describe('classifier initialiser; default N(0, 0.001) (code)'),
      input: z
        .strictObject({ height: z.number().int().min(8), width: z.number().int().min(8), channels: z.union([z.literal(1), z.literal(3)]) })
        .optional()
        .describe("input H×W×C; default the model's (fmnist 28×28×1, others 128×64×3); images of another size are resized"),
      featureLayer: z.string().optional().describe("'layers:' models only: the layer whose output is the backbone feature (e.g. a ResNet-50's global pool)"),
      freeze: z.boolean().default(false).describe("'layers:' models only: keep the loaded backbone's weights fixed"),
      normalization: z
        .union([z.enum(['imagenet', 'unit']), z.strictObject({ mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1) })])
        .optional()
        .describe("pixel normalisation of x/255: 'imagenet' (default for RGB), 'unit' (default for grey: x/255 as is) or per-channel {mean, std}"),
      pooling: z.enum(['avg', 'gem']).optional().describe("global pooling of the backbone's feature map: 'avg' (default) or 'gem', generalised-mean pooling (Radenović et al. 2018; Cluster-Contrast's)"),
      gem: z
        .strictObject({ p: z.number().min(1).default(3).describe('GeM exponent p; default 3'), learnable: z.boolean().default(true).describe('train p with the network; default true') })
        .optional()
        .describe("GeM's p (with pooling 'gem')"),
      ghostBatchSize: z.number().int().min(2).optional().describe('ghost batch norm: in training, batch-norm statistics over chunks of this many images, whatever the batch size (the samples-per-BN of multi-GPU training); default the whole batch'),
    })
      .prefault({}),
    sourceTraining: z
      .strictObject({
        epochs: z.number().int().min(1).default(6).describe('epochs on the labelled source set; default 6 (code: 40 from ImageNet weights)'),
        batchSize: z.number().int().min(1).default(64).describe('default 64 (code: 16)'),
        optimizer: optimizer.default({ type: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0 }),
      })
      .default({ epochs: 6, batchSize: 64, optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0 } }),
    clustering: z
      .strictObject({
        k: z.number().int().min(1).optional().describe("number of clusters K (paper: 750 Market-1501, 700 DukeMTMC); required by method 'pul'"),
        init: z.enum(['kmeans++', 'random']).default('kmeans++').describe('seeding; default k-means++ (code, via scikit-learn)'),
        maxIterations: z.number().int().min(1).default(300).describe('Lloyd iterations at most; default 300 (scikit-learn)'),
        restarts: z.number().int().min(1).default(10).describe('k-means runs with different seeds, the lowest inertia kept; default 10 (code: scikit-learn\'s n_init)'),
      })
      // a missing section is parsed as {} so the error names its missing key (clustering.k), not "expected object"
      .prefault({})
      .describe("k-means on the target embeddings (method 'pul')"),
    clusterContrast: z
      .strictObject({
        epochs: z.number().int().min(1).default(20).describe('epochs, each a round: extract → DBSCAN → drop noise → one training epoch; default 20'),
        passes: z.number().int().min(1).default(1).describe('training passes per epoch (between two clusterings), each of itersPerEpoch P×K steps; default 1'),
        itersPerEpoch: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe("P×K steps of a pass (Dai et al.: 400, or 200 on small sets); default ⌈clustered images / (P·K)⌉, as many image draws as the epoch has clustered images. Clusters are drawn uniformly (Dai et al.'s sampler), K images of a cluster per visit, its members in turn"),
        temperature: z.number().positive().default(0.05).describe('τ of the InfoNCE over the cluster memory; default 0.05 (Dai et al.)'),
        momentum: z.number().min(0).max(1).default(0.1).describe('memory update c ← m·c + (1 − m)·x; default 0.1 (Dai et al.)'),
        hard: z.boolean().default(true).describe("update a centroid with the batch's least similar member of its cluster (default; Dai et al.'s hard variant), else with the members' mean"),
        eps: z.number().positive().default(0.6).describe('DBSCAN eps on the k-reciprocal Jaccard distance; default 0.6 (Dai et al., Market-1501)'),
        minPts: z.number().int().min(2).default(4).describe('DBSCAN minimum neighbourhood size (a point counts itself); default 4'),
        k1: z.number().int().min(1).default(30).describe('k-reciprocal neighbours k1 of the Jaccard distance; default 30 (Zhong et al. 2017)'),
        k2: z.number().int().min(1).default(6).describe('query expansion k2 of the Jaccard distance (≤ k1); default 6'),
        keepOptimizer: z
          .boolean()
          .default(false)
          .describe("one optimiser across the epochs, as Dai et al.'s code: each epoch's training starts from the previous epoch's optimiser state (Adam's moments, saved in the epoch's checkpoint), not a fresh one; default false"),
        refreshBatchNorm: z
          .boolean()
          .default(false)
          .describe("before each extraction, re-estimate the BatchNorm running statistics on the target images (a no-gradient training-mode pass, cumulative average), so that the extracted features that cluster and seed the memory live in the space of the training-mode features the loss sees; default false"),
      })
      .refine((c) => c.k2 <= c.k1, { message: 'k2 must not exceed k1', path: ['k2'] })
      .default({ epochs: 20, passes: 1, temperature: 0.05, momentum: 0.1, hard: true, eps: 0.6, minPts: 4, k1: 30, k2: 6, keepOptimizer: false, refreshBatchNorm: false })
      .describe("method 'cluster-contrast' (Dai et al. 2021): density clustering and the cluster-memory contrastive loss; training.optimizer, pk and augment apply"),
    selection: z
      .strictObject({
        anchor: z.enum(['centroid', 'nearest-sample']).default('nearest-sample').describe("'centroid' (paper) or the real sample nearest each centroid (code; the default)"),
        scope: z.enum(['own', 'any']).default('any').describe("kept when its cosine to its own cluster's anchor (paper) or to any anchor (code; the default) is ≥ λ; either way labelled with its own k-means cluster (code)"),
        lambda: lambdaSchedule.default({ schedule: 'constant', value: 0.85 }),
        minSelected: z.number().int().min(1).default(1).describe('stop with a clear message when fewer samples are selected'),
      })
      .default({ anchor: 'nearest-sample', scope: 'any', lambda: { schedule: 'constant', value: 0.85 }, minSelected: 1 }),
    training: z
      .strictObject({
        epochsPerRound: z.number().int().min(1).default(3).describe('fine-tuning epochs per round; default 3 (code: 20)'),
        batchSize: z.number().int().min(1).default(64).describe('default 64 (code: 16)'),
        optimizer: optimizer.default({ type: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0 }),
        clusterLossWeight: z.number().min(0).default(0).describe('β of the cluster loss (paper); default 0 = plain cross-entropy (code). β > 0 means loss ce+β*cluster'),
        loss: z
          .string()
          .optional()
          .describe(`what retraining minimises: terms [weight*]name joined by + (e.g. ce+triplet-hard, ce+0.5*cluster, lifted); names: ${LOSS_NAMES.join(', ')}. Default ce, or ce+β*cluster when clusterLossWeight β > 0 (given both, they must agree)`),
        margin: z.number().min(0).optional().describe("margin of the margin losses; default each loss's own (triplet-hard 0.3, lifted 1)"),
        sampler: z
          .enum(SAMPLER_NAMES)
          .optional()
          .describe("batch order: pk (P identities × K images), epoch (every image once), inverse-frequency, loss-guided, smart (triplets mined over the whole set with the model being trained; batchSize a multiple of 4); default pk when the loss has a pair/triplet term, else epoch"),
        pk: z
          .strictObject({ p: z.number().int().min(2).describe('identities per batch'), k: z.number().int().min(2).describe('images per identity') })
          .default({ p: 16, k: 4 })
          .describe('P×K batches (batch size P·K; batchSize applies to the other samplers); default 16×4'),
        retrainFrom: z.enum(['source', 'previous']).default('source').describe("fine-tune from the source model each round with a fresh classifier (code; default) or continue from the previous round"),
        augment: z.enum(AUGMENT_NAMES).default('pul').describe("'pul': rotation ±20°, shifts 0.2 (code); 'reid': flip, pad + crop, random erasing"),
      })
      .superRefine((t, ctx) => {
        try {
          resolveLossSpec(t.loss, t.clusterLossWeight);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: [t.loss === undefined ? 'clusterLossWeight' : 'loss'], message: (err as Error).message });
        }
      })
      .default({ epochsPerRound: 3, batchSize: 64, optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0 }, clusterLossWeight: 0, pk: { p: 16, k: 4 }, retrainFrom: 'source', augment: 'pul' }),
    evaluation: z
      .strictObject({
        nmi: z.boolean().default(false).describe('also cluster the test embeddings (K = test identities) and report NMI against the true ids'),
      })
      .default({ nmi: false })
      .describe('evaluation on the target query/gallery split, when the target has one'),
    stop: z
      .strictObject({
        maxRounds: z.number().int().min(1).default(8).describe('rounds at most; default 8 (code: 25 fixed rounds)'),
        minChange: z
          .number()
          .min(0)
          .max(1)
          .default(0.01)
          .describe('stop when the pseudo-labelled selection changes by less than this between rounds: max(share of samples entering or leaving, 1 − adjusted Rand index of the labels of the samples selected in both); 0 = run maxRounds (code)'),
        minRounds: z.number().int().min(1).default(1).describe('rounds trained before minChange may end the run; default 1'),
      })
      .default({ maxRounds: 8, minChange: 0.01, minRounds: 1 }),
  })
  .superRefine((c, ctx) => {
    if (c.method === 'pul' && c.clustering.k === undefined) ctx.addIssue({ code: 'custom', path: ['clustering', 'k'], message: "required by method 'pul' (the number of k-means clusters)" });
  })
  .describe('PUL pipeline configuration'));

/** A validated configuration, every default filled in. */
export type PipelineConfig = z.output<typeof PipelineConfigSchema>;
/** What a pipelines/*.json file may hold (defaults optional). */
export type PipelineConfigInput = z.input<typeof PipelineConfigSchema>;
