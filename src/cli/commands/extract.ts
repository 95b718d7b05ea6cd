/**
 * `pul extract --checkpoint CK --data PATH --out DIR`: a model's embeddings of a data set as a feature folder.
 * With --binary the folder also gets codes.bin (sign(embedding) packed to bits; src/features/binary-codes.ts),
 * beside features.npy, so that `pul eval` can rank the same rows by float or by Hamming distance.
 */
import path from 'node:path';
import type { Command } from 'commander';
import {
  CODES_FILE, FEATURES_FILE, parseShard, shardSamples, INDEX_FILE, PulError, SPLITS, hashBitsProblem, packSigns, writeCodes, commitOutputDir, disposeModel, extractBatchSize, extractFeatureFolder, legacyFiles, loadDataset, parseClassList, parseDatasetFormat, streamProgress, writeFeatureFiles,
  type DatasetFormat, type Shard, type Split,
} from '../../index.js';
import { activateBackend } from '../global-options.js';
import { loadCheckpointOption } from '../checkpoint-option.js';
import { allowOutsideOption, datasetLoadOptions } from '../data-options.js';
import { parseChoice, parseWhole, parseWith } from '../parse-options.js';
import { runAction } from '../run-action.js';
import { replaceableOut } from '../out-option.js';

interface ExtractCliOptions {
  checkpoint: string;
  data: string;
  out: string;
  split: Split | 'all';
  format?: DatasetFormat;
  classes?: number[];
  batch?: number;
  force?: boolean;
  json?: boolean;
  allowOutside?: boolean;
  binary?: boolean;
  shard?: Shard;
}

export function registerExtract(program: Command): void {
  program
    .command('extract')
    .description("write a checkpoint's embeddings of a data set as a feature folder (features.npy + index.csv)")
    .requiredOption('--checkpoint <dir>', 'checkpoint folder, or a run folder (its latest.json)')
    .requiredOption('--data <path>', 'data set (any layout pul reads)')
    .requiredOption('--out <dir>', 'feature folder to write: a new or empty folder, or with --force one pul extract wrote (replaced only once complete)')
    .option('--force', 'replace the feature folder an earlier pul extract wrote at --out')
    .option('--split <split>', 'query, gallery, train or all', parseChoice('--split', [...SPLITS, 'all'] as const), 'all')
    .option('--format <format>', 'force a dataset layout', parseWith('--format', parseDatasetFormat))
    .option('--classes <list>', 'IDX only: keep these labels, e.g. 5-9', parseWith('--classes', parseClassList))
    .addOption(allowOutsideOption())
    .option('--binary', `also write ${CODES_FILE}: sign(embedding) as packed bits (for pul eval --binary); the embedding size must be a multiple of 8 in [8, 1024] — a hash head (pul train --hash-bits) is made for this`)
    .option('--shard <i/n>', 'only job i of n: the i-th of n equal blocks of the samples sorted by path (independent jobs for a batch scheduler; pul index --features merges their folders)', parseWith('--shard', (v) => parseShard(v)))
    .option('--batch <n>', 'images per forward pass (default 512 for inputs of up to 64 × 64 values, 256 for larger ones)', parseWhole('--batch', 1))
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (opts: ExtractCliOptions) => {
        // before any work: --out must be free (or ours with --force), apart from the inputs, writable
        const inputs = [{ path: opts.data, option: '--data' }, { path: opts.checkpoint, option: '--checkpoint' }];
        const out = await replaceableOut('pul extract', 'features', opts, inputs, legacyFiles('features', [FEATURES_FILE, INDEX_FILE], [CODES_FILE]));
        const backend = await activateBackend(program);
        const started = performance.now();
        const { model, checkpoint } = await loadCheckpointOption(opts.checkpoint);
        try {
          const problem = opts.binary ? hashBitsProblem(model.spec.embeddingDim) : null;
          if (problem !== null) {
            throw new PulError('option.invalid', `--binary: ${checkpoint.dir} has a ${model.spec.embeddingDim}-dimensional embedding, and as a code ${problem} — train a hash head with pul train --hash-bits B`, { option: '--binary' });
          }
          const dataset = await loadDataset(opts.data, datasetLoadOptions(opts));
          const split = opts.split === 'all' ? dataset.samples : dataset.samples.filter((s) => s.split === opts.split);
          const samples = opts.shard === undefined ? split : shardSamples(split, opts.shard);
          const folder = await extractFeatureFolder(model, samples, { batchSize: opts.batch ?? extractBatchSize(model.spec), normalize: checkpoint.manifest.normalization }, { progress: streamProgress() });
          await commitOutputDir(out, async (tmp) => {
            await writeFeatureFiles(tmp, folder);
            if (opts.binary) await writeCodes(path.join(tmp, CODES_FILE), packSigns(folder.features));
          });
          const { rows, dim } = folder.features;
          const seconds = (performance.now() - started) / 1000;
          if (opts.json) {
            const report = { out: opts.out, rows, dim, ...(opts.shard ? { shard: `${opts.shard.index}/${opts.shard.count}` } : {}), binary: opts.binary ?? false, data: opts.data, split: opts.split, checkpoint: checkpoint.dir, batch: opts.batch ?? extractBatchSize(model.spec), seconds, backend: backend.backend };
            process.stdout.write(`${JSON.stringify(report)}\n`);
          } else process.stdout.write(`wrote ${rows} × ${dim} features${opts.binary ? ` and ${dim}-bit codes` : ''} of ${opts.data} (${opts.split}) to ${opts.out}\n`);
        } finally {
          disposeModel(model);
        }
      }),
    );
}
