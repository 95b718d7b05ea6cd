/**
 * `pul cluster --features DIR --k K --out DIR`: k-means of a feature folder → assignments.csv, centroids.npy;
 * `--method dbscan [--eps --min-pts --k1 --k2]`: DBSCAN on the k-reciprocal Jaccard distance instead (−1 = noise).
 */
import type { Command } from 'commander';
import {
  Rng,
  PulError,
  adjustedMutualInformation,
  clusterAccuracy,
  clusterByDensity,
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
  type Clustering,
  type KMeansInit,
} from '../../index.js';
import { parseChoice, parseNumber, parseWhole } from '../parse-options.js';
import { runAction, type FlagTable } from '../run-action.js';
import { replaceableOut } from '../out-option.js';
import { activateClusteringBackend } from '../global-options.js';

/** The option keys k-means names in its errors → this command's flags. */
const FLAGS: FlagTable = { eps: '--eps', minPts: '--min-pts', k1: '--k1', k2: '--k2', 'clustering.k': '--k', 'clustering.maxIterations': '--max-iter', 'clustering.steps': '--max-iter', 'clustering.tol': '--tol', 'clustering.batchSize': '--minibatch' };

interface ClusterOptions {
  features: string;
  method: 'kmeans' | 'dbscan';
  k?: number;
  eps?: number;
  minPts?: number;
  k1?: number;
  k2?: number;
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
    .description('k-means (k-means++ seeding, exact Lloyd with Yinyang bounds) of a feature folder, or DBSCAN on its k-reciprocal Jaccard distances (--method dbscan)')
    .requiredOption('--features <dir>', 'feature folder (features.npy + index.csv)')
    .option('--method <m>', 'kmeans, or dbscan (Cluster-Contrast / SpCL: noise rows get cluster −1)', parseChoice('--method', ['kmeans', 'dbscan'] as const), 'kmeans')
    .option('--k <K>', 'number of clusters (kmeans; required there)', parseWhole('--k', 1))
    .option('--eps <e>', 'dbscan: radius on the Jaccard distance, in (0, 1) (default 0.6)', parseNumber('--eps'))
    .option('--min-pts <n>', 'dbscan: rows within eps (itself included) that make a core row, ≥ 2 (default 4)', parseWhole('--min-pts', 0))
    .option('--k1 <n>', 'dbscan: k-reciprocal neighbours (default 30)', parseWhole('--k1', 1))
    .option('--k2 <n>', 'dbscan: neighbours of the local query expansion, ≤ k1 (default 6)', parseWhole('--k2', 1))
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
        const batch = opts.minibatch === undefined ? undefined : Math.min(opts.minibatch, x.rows); // as miniBatchKMeans caps it
        const c = opts.method === 'dbscan' ? clusterByDensity(x, densityOptions(opts)) : runKMeans(x, opts, batch);
        // the metrics are computed while the files are flushed to disk
        const written = commitOutputDir(out, (tmp) => writeClusterFiles(tmp, c, folder.index.map((r) => r.path)));
        const pids = folder.index.map((r) => r.pid);
        const labelled = pids.every((p): p is number => p !== null);
        const metrics = labelled
          ? { nmi: normalizedMutualInformation(pids, c.assignment), ami: adjustedMutualInformation(pids, c.assignment), accuracy: clusterAccuracy(pids, c.assignment) }
          : null;
        await written;
        const seconds = (performance.now() - started) / 1000;
        const common = { rows: x.rows, dim: x.dim, method: opts.method, k: c.k };
        const report =
          c.method === 'dbscan'
            ? { ...common, noise: c.noise, ...densityOptions(opts), distanceSeconds: c.seedSeconds, dbscanSeconds: c.iterationSeconds, seconds, ...(metrics ?? {}), out: opts.out }
            : { ...common, inertia: c.inertia, iterations: c.iterations, converged: c.converged, seedSeconds: c.seedSeconds, iterationSeconds: c.iterationSeconds, seconds, ...(batch === undefined ? {} : { batch }), ...(metrics ?? {}), out: opts.out };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(report)}\n`);
          return;
        }
        const shape = `${opts.features} (${x.rows} × ${x.dim}${opts.normalize ? ', L2-normalised' : ''})`;
        const lines =
          c.method === 'dbscan'
            ? [
                `features: ${shape}, DBSCAN on k-reciprocal Jaccard distances (k1 ${opts.k1 ?? 30}, k2 ${opts.k2 ?? 6}), eps ${opts.eps ?? 0.6}, minPts ${opts.minPts ?? 4}`,
                `clusters    ${c.k}`,
                `noise       ${c.noise ?? 0} rows (${((100 * (c.noise ?? 0)) / x.rows).toFixed(1)} %, cluster −1)`,
                `seconds     ${seconds.toFixed(2)} (distances ${c.seedSeconds.toFixed(2)}, DBSCAN ${c.iterationSeconds.toFixed(2)})`,
              ]
            : [
                `features: ${shape}, K=${c.k}, ${opts.minibatch === undefined ? `${opts.init} + Lloyd` : `mini-batch (${batch} rows${batch === opts.minibatch ? '' : `: --minibatch ${opts.minibatch} capped at the data`})`}, seed ${opts.seed}`,
                `inertia     ${c.inertia.toPrecision(8)}`,
                `iterations  ${c.iterations}${c.converged ? ' (converged)' : ''}`,
                `seconds     ${seconds.toFixed(2)} (seeding ${c.seedSeconds.toFixed(2)}, iterations ${c.iterationSeconds.toFixed(2)})`,
              ];
        if (metrics) lines.push(`NMI         ${metrics.nmi.toFixed(4)}${c.method === 'dbscan' ? ' (noise counted as one group)' : ''}`, `AMI         ${metrics.ami.toFixed(4)}`, `accuracy    ${metrics.accuracy.toFixed(4)}`);
        lines.push(`wrote ${opts.out}/assignments.csv, centroids.npy`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }, FLAGS),
    );
}

/** The k-means run of `pul cluster` (full Lloyd, or mini-batch with --minibatch); --k is required, the dbscan flags refused. */
function runKMeans(x: Parameters<typeof kmeans>[0], opts: ClusterOptions, batch: number | undefined): Clustering {
  const stray = (['eps', 'minPts', 'k1', 'k2'] as const).filter((o) => opts[o] !== undefined);
  if (stray.length > 0) throw new PulError('option.invalid', `${stray.map((o) => FLAGS[o]).join(', ')} ${stray.length === 1 ? 'applies' : 'apply'} only to --method dbscan`, { option: FLAGS[stray[0]!]! });
  if (opts.k === undefined) throw new PulError('option.invalid', '--k is required with --method kmeans (the number of clusters)', { option: '--k' });
  const rng = new Rng(opts.seed);
  return batch === undefined
    ? kmeans(x, { k: opts.k, init: opts.init, maxIterations: opts.maxIter, tol: opts.tol }, rng)
    : miniBatchKMeans(x, { k: opts.k, init: opts.init, batchSize: batch, steps: opts.maxIter }, rng);
}

/** The DensityOptions the flags set (library defaults for the rest); k-means-only flags refused. */
function densityOptions(opts: ClusterOptions): { eps?: number; minPts?: number; k1?: number; k2?: number } {
  if (opts.k !== undefined) throw new PulError('option.invalid', '--k does not apply to --method dbscan: DBSCAN finds the number of clusters (tune --eps / --min-pts)', { option: '--k' });
  if (opts.minibatch !== undefined) throw new PulError('option.invalid', '--minibatch does not apply to --method dbscan', { option: '--minibatch' });
  return {
    ...(opts.eps === undefined ? {} : { eps: opts.eps }),
    ...(opts.minPts === undefined ? {} : { minPts: opts.minPts }),
    ...(opts.k1 === undefined ? {} : { k1: opts.k1 }),
    ...(opts.k2 === undefined ? {} : { k2: opts.k2 }),
  };
}
