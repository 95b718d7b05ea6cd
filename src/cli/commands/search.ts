/**
 * `pul search --db DB --checkpoint CK IMAGE…` or `--query-features DIR`: each query's nearest gallery
 * rows in an index built by `pul index` (path, pid, camera, time, cosine distance).
 */
import path from 'node:path';
import type { Command } from 'commander';
import {
  GalleryIndex, PulError, disposeModel, extractFeatures, openDatabase, parseMarketName, readFeatureFolder, weightsFingerprint,
  type FeatureMatrix, type Match, type SearchFilter,
} from '../../index.js';
import { activateBackend } from '../global-options.js';
import { loadCheckpointOption } from '../checkpoint-option.js';
import { parseNumber, parseRanks, parseWhole } from '../parse-options.js';
import { runAction } from '../run-action.js';

interface SearchCliOptions {
  db: string;
  checkpoint?: string;
  queryFeatures?: string;
  top: number;
  excludeSameCamera?: boolean;
  queryCamera?: number;
  cameras?: number[];
  since?: number;
  until?: number;
  exact?: boolean;
  json?: boolean;
}

interface Query {
  readonly name: string;
  readonly camera: number | null;
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('the nearest gallery images of query images (with --checkpoint) or of a feature folder\'s rows (--query-features), from an index built by pul index')
    .argument('[images...]', 'query images (JPEG, PNG, WebP), embedded with --checkpoint')
    .requiredOption('--db <db>', 'the index: a PGlite folder or a postgres:// URL')
    .option('--checkpoint <dir>', 'the checkpoint (or run folder) that embeds the images: the one the index was built with')
    .option('--query-features <dir>', 'instead of images: every row of this feature folder is a query')
    .option('--top <k>', 'matches per query', parseWhole('--top', 1), 10)
    .option('--exclude-same-camera', "leave out gallery images from the query's own camera (its camera: --query-camera, the feature folder's camid, or a Market/Duke file name)")
    .option('--query-camera <c>', 'the camera of the query images', parseWhole('--query-camera', -1_000_000))
    .option('--cameras <list>', 'only gallery images from these cameras, e.g. 1,3', parseRanks('--cameras'))
    .option('--since <t>', 'only gallery images with time ≥ t (the index.csv time column)', parseNumber('--since'))
    .option('--until <t>', 'only gallery images with time ≤ t', parseNumber('--until'))
    .option('--exact', 'exact search (every row), not the HNSW index')
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (images: string[], opts: SearchCliOptions) => {
        if ((images.length > 0) === (opts.queryFeatures !== undefined)) throw new PulError('option.invalid', 'give query images (with --checkpoint) or --query-features DIR', { option: '--query-features' });
        if (images.length > 0 && opts.checkpoint === undefined) throw new PulError('option.invalid', 'query images need --checkpoint (the model the index was built with)', { option: '--checkpoint' });
        const { queries, features, model } = images.length > 0 ? await embedImages(program, images, opts) : await readQueries(opts.queryFeatures!);
        const db = await openDatabase(opts.db, { command: 'pul search' });
        try {
          const index = await GalleryIndex.open(db);
          index.checkCompatible(features.dim, model, images.length > 0 ? `embeddings of ${opts.checkpoint}` : opts.queryFeatures);
          const results: { query: string; camera: number | null; matches: Match[] }[] = [];
          for (let q = 0; q < queries.length; q++) {
            const query = queries[q]!;
            const filter: SearchFilter = {
              ...(opts.cameras ? { cameras: opts.cameras } : {}),
              ...(opts.since === undefined ? {} : { timeFrom: opts.since }),
              ...(opts.until === undefined ? {} : { timeTo: opts.until }),
              ...(opts.excludeSameCamera ? { excludeCamera: cameraOf(query) } : {}),
            };
            const matches = await index.search(features.data.subarray(q * features.dim, (q + 1) * features.dim), { top: opts.top, ...filter, ...(opts.exact ? { exact: true } : {}) });
            results.push({ query: query.name, camera: query.camera, matches });
          }
          if (opts.json) process.stdout.write(`${JSON.stringify({ db: db.location, top: opts.top, results })}\n`);
          else process.stdout.write(results.map(formatResult).join('\n'));
        } finally {
          await db.close();
        }
      }),
    );

  function cameraOf(query: Query): number {
    if (query.camera === null) throw new PulError('option.invalid', `--exclude-same-camera: the camera of ${query.name} is unknown; give --query-camera`, { option: '--query-camera' });
    return query.camera;
  }
}

async function embedImages(program: Command, images: string[], opts: SearchCliOptions): Promise<{ queries: Query[]; features: FeatureMatrix; model: string | null }> {
  await activateBackend(program);
  const { model, checkpoint } = await loadCheckpointOption(opts.checkpoint!);
  try {
    const queries = images.map((name) => ({ name, camera: opts.queryCamera ?? parseMarketName(path.basename(name))?.camid ?? null }));
    const samples = queries.map((q) => ({ path: q.name, pid: null, camid: q.camera ?? 0, split: 'query' as const }));
    const features = await extractFeatures(model, samples, { normalize: checkpoint.manifest.normalization });
    return { queries, features, model: weightsFingerprint(checkpoint) };
  } finally {
    disposeModel(model);
  }
}

async function readQueries(dir: string): Promise<{ queries: Query[]; features: FeatureMatrix; model: null }> {
  const folder = await readFeatureFolder(dir);
  return { queries: folder.index.map((r) => ({ name: r.path, camera: r.camid })), features: folder.features, model: null };
}

function formatResult(r: { query: string; camera: number | null; matches: readonly Match[] }): string {
  const lines = [`${r.query}${r.camera === null ? '' : ` (camera ${r.camera})`}:`];
  r.matches.forEach((m, i) => lines.push(`  ${String(i + 1).padStart(3)}  ${m.distance.toFixed(4)}  camera ${m.camera ?? '?'}  pid ${m.pid ?? '?'}  ${m.path}${m.time === null ? '' : `  t=${m.time}`}`));
  return `${lines.join('\n')}\n`;
}
