/** `pul cluster --features DIR --k K --out DIR`: k-means of a feature folder → assignments.csv, centroids.npy. */
import type { Command } from 'commander';
import {
  Rng,
  adjustedMutualInformation,
  clusterAccuracy,
  kmeans,
  l2Normalize,
  miniBatchKMeans,
  normalizedMutualInformation,
  readFeatureFolder,
  writeClusterFiles,
  commitOutputDir,
  legacyFiles,
  ASSIGNMENTS_FILE,
  CENTROIDS_FILE,
  SELECTION_FILE,
  type KMeansInit,
} from '../../index.js';
import { parseChoice, parseNumber, parseWhole } from '../parse-options.js';
import { runAction, type FlagTable } from '../run-action.js';
import { replaceableOut } from '../out-option.js';
import { activateClusteringBackend } from '../global-options.js';

/** The option keys k-means names in its errors → this command's flags. */
const FLAGS: FlagTable = { 'clustering.k': '--k', 'clustering.maxIterations': '--max-iter', 'clustering.steps': '--max-iter', 'clustering.tol': '--tol', 'clustering.batchSize': '--minibatch' };

interface ClusterOptions {
  features: string;
  k: number;
  seed: number;
  init: KMeansInit;
  maxIter: number;
  tol: number;
  normalize?: boolean;
  minibatch?: number;
  out: string;
  force?: boolean;
  json?: boolean;
}

export function registerCluster(program: Command): void {
  program
    .command('cluster')
    .description('k-means (k-means++ seeding, exact Lloyd with Yinyang bounds) of a feature folder')
    .requiredOption('--features <dir>', 'feature folder (features.npy + index.csv)')
    .requiredOption('--k <K>', 'number of clusters', parseWhole('--k', 1))
    .requiredOption('--out <dir>', 'output folder for assignments.csv and centroids.npy: new or empty, or with --force one pul cluster wrote (replaced once complete)')
    .option('--force', 'replace the clustering an earlier pul cluster wrote at --out')
    .option('--seed <S>', 'random seed', parseWhole('--seed', 0), 0)
    .option('--init <init>', 'kmeans++ (greedy, as scikit-learn) or random rows', parseChoice('--init', ['kmeans++', 'random'] as const), 'kmeans++')
    .option('--max-iter <N>', 'maximum Lloyd iterations', parseWhole('--max-iter', 1), 300)
    .option('--tol <t>', "relative tolerance on the centre shift (scikit-learn's)", parseNumber('--tol'), 1e-4)
    .option('--normalize', 'L2-normalise the features first (as PUL does)')
    .option('--minibatch <B>', 'mini-batch k-means with batches of B rows (for data too large for full passes)', parseWhole('--minibatch', 1))
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (opts: ClusterOptions) => {
        const out = await replaceableOut('pul cluster', 'clusters', opts, [{ path: opts.features, option: '--features' }], legacyFiles('clusters', [ASSIGNMENTS_FILE, CENTROIDS_FILE], [SELECTION_FILE]));
        const started = performance.now();
        // the backend's start-up (module loads, wasm compile, threads) overlaps the reading of the folder
        const [, folder] = await Promise.all([activateClusteringBackend(program), readFeatureFolder(opts.features)]);
        const x = opts.normalize ? l2Normalize(folder.features) : folder.features;
        const rng = new Rng(opts.seed);
        const batch = opts.minibatch === undefined ? undefined : Math.min(opts.minibatch, x.rows); // as miniBatchKMeans caps it
        const c =
          batch === undefined
            ? kmeans(x, { k: opts.k, init: opts.init, maxIterations: opts.maxIter, tol: opts.tol }, rng)
            : miniBatchKMeans(x, { k: opts.k, init: opts.init, batchSize: batch, steps: opts.maxIter }, rng);
        // the metrics are computed while the files are flushed to disk
        const written = commitOutputDir(out, (tmp) => writeClusterFiles(tmp, c, folder.index.map((r) => r.path)));
        const pids = folder.index.map((r) => r.pid);
        const labelled = pids.every((p): p is number => p !== null);
        const metrics = labelled
          ? { nmi: normalizedMutualInformation(pids, c.assignment), ami: adjustedMutualInformation(pids, c.assignment), accuracy: clusterAccuracy(pids, c.assignment) }
          : null;
        await written;
        const seconds = (performance.now() - started) / 1000;
        const report = { rows: x.rows, dim: x.dim, k: c.k, inertia: c.inertia, iterations: c.iterations, converged: c.converged, seedSeconds: c.seedSeconds, iterationSeconds: c.iterationSeconds, seconds, ...(batch === undefined ? {} : { batch }), ...(metrics ?? {}), out: opts.out };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(report)}\n`);
          return;
        }
        const lines = [
          `features: ${opts.features} (${x.rows} × ${x.dim}${opts.normalize ? ', L2-normalised' : ''}), K=${c.k}, ${opts.minibatch === undefined ? `${opts.init} + Lloyd` : `mini-batch (${batch} rows${batch === opts.minibatch ? '' : `: --minibatch ${opts.minibatch} capped at the data`})`}, seed ${opts.seed}`,
          `inertia     ${c.inertia.toPrecision(8)}`,
          `iterations  ${c.iterations}${c.converged ? ' (converged)' : ''}`,
          `seconds     ${seconds.toFixed(2)} (seeding ${c.seedSeconds.toFixed(2)}, iterations ${c.iterationSeconds.toFixed(2)})`,
        ];
        if (metrics) lines.push(`NMI         ${metrics.nmi.toFixed(4)}`, `AMI         ${metrics.ami.toFixed(4)}`, `accuracy    ${metrics.accuracy.toFixed(4)}`);
        lines.push(`wrote ${opts.out}/assignments.csv, centroids.npy`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }, FLAGS),
    );
}
