/**
 * One epoch of Cluster-Contrast (Dai et al. 2021) as a round of `pul run --method cluster-contrast`,
 * in the same `<run>/round-NN/` layout as a PUL round: extract (the previous epoch's model) → cluster
 * (DBSCAN on k-reciprocal Jaccard distances; −1 noise rows in assignments.csv) → select (the noise
 * dropped) → train (one epoch of the cluster-memory loss, the memory initialised from the clusters'
 * mean features; P×K batches of clusters drawn uniformly, see cluster-sampler.ts) → evaluate. The extract and evaluate stages are PUL's.
 */
import path from 'node:path';
import { tf } from '../backend/tf.js';
import { disposeModel } from '../model/build-model.js';
import { exists } from '../core/atomic-fs.js';
import { deriveSeed } from '../core/random.js';
import { AUGMENTS } from '../datasets/augment.js';
import { clusterCycleSampler } from '../datasets/cluster-sampler.js';
import { readFeatureFolder } from '../features/features-npy.js';
import { clusterByDensity } from '../clustering/density-clustering.js';
import { readClusterFiles, writeClusterFiles } from '../clustering/cluster-files.js';
import { selectDenseClusters } from '../selection/select-dense.js';
import { readSelectionFile, writeSelectionFile } from '../selection/selection-file.js';
import { selectionPrecision } from '../selection/selection-precision.js';
import { normalizedMutualInformation } from '../evaluation/cluster-metrics.js';
import { META_JSON } from '../checkpoints/checkpoint.js';
import { writeLatest } from '../checkpoints/latest.js';
import { loadCheckpoint, loadOptimizerState, readCheckpoint } from '../checkpoints/load-checkpoint.js';
import type { LossTerm } from '../training/objective.js';
import type { Stage } from './run-stages.js';
import type { PulSession } from './pul-session.js';
import { faultPoint } from './fault.js';
import { trainResumable, trainedOptimizerState } from './resumable-training.js';
import { CLUSTERS, FEATURES, commitRoundModel, pidsOf } from './round-stages.js';

/** The loss of a cluster-contrast epoch. */
export const CLUSTER_CONTRAST_LOSS: readonly LossTerm[] = [{ name: 'cluster-memory', weight: 1 }];

/** Ground-truth ids of the clustered rows only (noise has no pseudo-label to compare). */
function clusteredOnly(truth: Int32Array, assignment: Int32Array): { truth: Int32Array; predicted: Int32Array } {
  const rows = Array.from(assignment.keys()).filter((i) => assignment[i]! >= 0);
  return { truth: Int32Array.from(rows, (i) => truth[i]!), predicted: Int32Array.from(rows, (i) => assignment[i]!) };
}

export function densityClusterStage(session: PulSession): Stage {
  return {
    name: 'cluster',
    async run({ round, progress }) {
      const cc = session.config.clusterContrast;
      const dir = session.roundDir(round);
      const { features, index } = await readFeatureFolder(path.join(dir, FEATURES));
      progress.log(`  DBSCAN on k-reciprocal Jaccard distances: ${features.rows} × ${features.dim}, k1=${cc.k1}, k2=${cc.k2}, eps=${cc.eps}, minPts=${cc.minPts}`);
      const clustering = clusterByDensity(features, { k1: cc.k1, k2: cc.k2, eps: cc.eps, minPts: cc.minPts });
      faultPoint(`cluster:round-${round}`);
      await writeClusterFiles(path.join(dir, CLUSTERS), clustering, index.map((r) => r.path));
      progress.log(`  ${clustering.k} clusters, ${clustering.noise} noise rows`);
      const truth = pidsOf((await session.data()).target);
      const scored = truth === null ? null : clusteredOnly(truth, clustering.assignment);
      return {
        summary: {
          k: clustering.k,
          noise: clustering.noise,
          clustered: features.rows - clustering.noise,
          ...(scored === null ? {} : { nmi: normalizedMutualInformation(scored.truth, scored.predicted) }),
        },
      };
    },
  };
}

export function denseSelectStage(session: PulSession): Stage {
  return {
    name: 'select',
    async run({ round, progress }) {
      const dir = session.roundDir(round);
      const clusters = await readClusterFiles(path.join(dir, CLUSTERS));
      const selection = selectDenseClusters(clusters);
      await writeSelectionFile(dir, selection, (await session.data()).target.map((s) => s.path));
      const truth = pidsOf((await session.data()).target);
      progress.log(`  training on ${selection.indices.length} of ${clusters.assignment.length} images (noise dropped)`);
      return { summary: { selected: selection.indices.length, of: clusters.assignment.length, ...(truth === null ? {} : { precision: selectionPrecision(selection, truth) }) } };
    },
  };
}

/**
 * P×K steps of one training pass: `itersPerEpoch` when set (Dai et al.'s fixed 400), else as many
 * batches as hold the clustered images once, ⌈images / batch⌉.
 */
export function contrastSteps(images: number, batchSize: number, itersPerEpoch: number | undefined): number {
  return itersPerEpoch ?? Math.max(1, Math.ceil(images / batchSize));
}

export function contrastTrainStage(session: PulSession): Stage {
  return {
    name: 'train',
    async run({ round, signal, progress }) {
      const config = session.config;
      const t = config.training;
      const cc = config.clusterContrast;
      const dir = session.roundDir(round);
      const checkpointDir = session.checkpointDir(round);
      const data = await session.data();
      const selection = await readSelectionFile(dir);
      const clusters = await readClusterFiles(path.join(dir, CLUSTERS));
      const samples = Array.from(selection.indices, (row) => data.target[row]!);
      const labels = Int32Array.from(selection.labels);
      const state = { round, epoch: round, clusters: clusters.k, selected: samples.length, run: config.name, method: config.method };
      if (await exists(path.join(checkpointDir, META_JSON))) {
        // saved before a crash, after its epoch: nothing left to train
        await writeLatest(session.runDir, session.checkpointName(round));
        return { summary: { images: samples.length, clusters: clusters.k, reused: checkpointDir } };
      }
      const seed = deriveSeed(config.seed, round, 'train');
      // fewer clusters than P (an early epoch of a weak model): batches of all of them
      const p = Math.min(t.pk.p, clusters.k);
      if (p < t.pk.p) progress.log(`  ${clusters.k} clusters: P×K batches of ${p}×${t.pk.k} this epoch (training.pk.p ${t.pk.p})`);
      const steps = contrastSteps(samples.length, p * t.pk.k, cc.itersPerEpoch);
      const memory = { temperature: cc.temperature, momentum: cc.momentum, hard: cc.hard };
      const training = { method: config.method, epochs: 1, passes: cc.passes, steps, keepOptimizer: cc.keepOptimizer, optimizer: t.optimizer, augment: t.augment, loss: 'cluster-memory', ...memory, pk: t.pk, startedFrom: session.checkpointName(round - 1) };
      const draws = cc.passes * steps * p * t.pk.k;
      const visits = (cc.passes * steps * p) / clusters.k;
      progress.log(
        `  training ${cc.passes === 1 ? '' : `${cc.passes} passes × `}${steps} steps of P×K ${p}×${t.pk.k} (${draws} image draws${cc.itersPerEpoch === undefined ? '' : ', clusterContrast.itersPerEpoch'}) on the ${samples.length} images of ${clusters.k} clusters, ` +
          `each cluster ${visits.toFixed(1)} times (memory τ=${cc.temperature}, momentum ${cc.momentum}${cc.hard ? ', hard' : ''})`,
      );
      const augment = AUGMENTS[t.augment];
      const normalization = (await readCheckpoint(session.checkpointDir(round - 1))).manifest.normalization;
      const { model, records } = await trainResumable({
        workDir: path.join(dir, 'training'),
        // the memory replaces the classifier: the network goes on from the previous epoch as it is
        initialModel: async () => (await loadCheckpoint(session.checkpointDir(round - 1))).model,
        // the previous epoch's Adam moments (epoch 1 starts fresh: the source checkpoint's state is another training's)
        ...(cc.keepOptimizer && round > 1 ? { initialOptimizer: async () => loadOptimizerState(await readCheckpoint(session.checkpointDir(round - 1))) } : {}),
        samples,
        labels,
        // each pass a trainer epoch over the same clusters; the memory goes on from pass to pass
        epochs: cc.passes,
        batchSize: p * t.pk.k,
        optimizer: t.optimizer,
        seed,
        normalization,
        ...(augment ? { augment } : {}),
        reader: session.reader,
        loss: CLUSTER_CONTRAST_LOSS,
        objective: { memory: { centroids: clusters.centroids, ...memory } },
        sampler: clusterCycleSampler(labels, { p, k: t.pk.k, steps }),
        meta: { training, state },
        tag: `round-${round}`,
        signal,
        progress,
      });
      // kept in the epoch's checkpoint for the next epoch to go on with (keepOptimizer)
      const optimizer = cc.keepOptimizer ? await trainedOptimizerState(path.join(dir, 'training')).catch((err: unknown) => { disposeModel(model); throw err; }) : null;
      try {
        await commitRoundModel(session, round, dir, { model, normalization, epoch: round, training, state, optimizer });
      } finally {
        if (optimizer !== null) tf.dispose(optimizer.map((n) => n.tensor));
      }
      const last = records.at(-1);
      return { summary: { images: samples.length, clusters: clusters.k, steps: cc.passes * steps, lossSpec: 'cluster-memory', ...(last ? { loss: last.loss, imagesPerSecond: last.imagesPerSecond } : {}) } };
    },
  };
}
