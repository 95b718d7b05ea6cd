/** `pul eval --query DIR --gallery DIR`: Market-1501 mAP / CMC / mINP of two feature folders. */
import type { Command } from 'commander';
import { evaluateFeatures, readFeatureFolder, type ApDefinition, type DistanceMetric, type RankReport } from '../../index.js';
import { parseChoice, parseRanks } from '../parse-options.js';
import { runAction } from '../run-action.js';
import { activateBackend } from '../global-options.js';

interface EvalOptions {
  query: string;
  gallery: string;
  metric: DistanceMetric;
  ranks: number[];
  ap: ApDefinition;
  cameraFilter: boolean;
  rerank?: boolean;
  json?: boolean;
}

const percent = (v: number) => `${(100 * v).toFixed(2)} %`;

export function formatRankReport(r: RankReport, header: readonly string[] = []): string {
  const lines = [...header];
  lines.push(`queries evaluated: ${r.validQueries}${r.skippedQueries ? `, skipped: ${r.skippedQueries} (no true match from another camera; e.g. query rows ${r.skippedExamples.slice(0, 5).join(', ')})` : ''}`);
  lines.push(`mAP      ${percent(r.mAP)}`);
  r.ranks.forEach((k, i) => lines.push(`rank-${String(k).padEnd(3)} ${percent(r.cmc[i]!)}`));
  lines.push(`mINP     ${percent(r.mINP)}`);
  return `${lines.join('\n')}\n`;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate retrieval of query features against gallery features (Market-1501 protocol: mAP, CMC, mINP)')
    .requiredOption('--query <dir>', 'query feature folder (features.npy + index.csv)')
    .requiredOption('--gallery <dir>', 'gallery feature folder (features.npy + index.csv)')
    .option('--metric <metric>', 'cosine (on L2-normalised features) or euclidean', parseChoice(['cosine', 'euclidean'] as const), 'cosine')
    .option('--ranks <list>', 'CMC ranks to report', parseRanks, [1, 5, 10, 20])
    .option('--ap <definition>', "standard (torchreid) or trapezoid (the original Market-1501 / PUL code)", parseChoice(['standard', 'trapezoid'] as const), 'standard')
    .option('--rerank', 'k-reciprocal re-ranking (Zhong et al. 2017; k1 20, k2 6, λ 0.3)')
    .option('--no-camera-filter', 'keep same-camera matches (plain retrieval: CMC becomes Recall@K)')
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (opts: EvalOptions) => {
        await activateBackend(program);
        const started = performance.now();
        const [query, gallery] = await Promise.all([readFeatureFolder(opts.query), readFeatureFolder(opts.gallery)]);
        const report = evaluateFeatures(query, gallery, { metric: opts.metric, ranks: opts.ranks, ap: opts.ap, removeSameCamera: opts.cameraFilter, ...(opts.rerank ? { rerank: {} } : {}) }, { query: opts.query, gallery: opts.gallery });
        const seconds = (performance.now() - started) / 1000;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...report, metric: opts.metric, rerank: opts.rerank ?? false, ap: opts.ap, queries: query.features.rows, gallery: gallery.features.rows, seconds })}\n`);
        } else {
          process.stdout.write(
            formatRankReport(report, [
              `query: ${opts.query} (${query.features.rows} × ${query.features.dim}), gallery: ${opts.gallery} (${gallery.features.rows})`,
              `metric: ${opts.metric}${opts.rerank ? ' + k-reciprocal re-ranking' : ''}, AP: ${opts.ap}${opts.cameraFilter ? '' : ', no camera filter'}, ${seconds.toFixed(2)} s`,
            ]),
          );
        }
      }),
    );
}
