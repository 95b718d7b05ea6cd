/** `pul select --features DIR --clusters DIR --lambda L`: PUL's reliable samples → selection.csv. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  ASSIGNMENTS_FILE, CENTROIDS_FILE, PulError, SELECTION_ANCHORS, SELECTION_FILE, SELECTION_SCOPES, claimOutputDir, legacyFiles, prepareOutput, readClusterFiles, readFeatureFolder, selectReliable, selectionPrecision, writeSelectionFile,
  type SelectionAnchor, type SelectionScope,
} from '../../index.js';
import { parseChoice, parseNumber, parseWhole } from '../parse-options.js';
import { runAction } from '../run-action.js';
import { activateClusteringBackend } from '../global-options.js';

interface SelectOptions {
  features: string;
  clusters: string;
  lambda: number;
  anchor: SelectionAnchor;
  scope: SelectionScope;
  minSelected: number;
  out?: string;
  force?: boolean;
  json?: boolean;
}

const legacyClusters = legacyFiles('clusters', [ASSIGNMENTS_FILE, CENTROIDS_FILE], [SELECTION_FILE]);
const legacySelection = legacyFiles('selection', [SELECTION_FILE]);

export function registerSelect(program: Command): void {
  program
    .command('select')
    .description("keep the reliable samples: cosine to a cluster anchor ≥ λ (paper: centroid/own; authors' code: nearest-sample/any)")
    .requiredOption('--features <dir>', 'feature folder (features.npy + index.csv)')
    .requiredOption('--clusters <dir>', 'folder written by pul cluster (assignments.csv + centroids.npy)')
    .requiredOption('--lambda <L>', 'cosine threshold λ in [-1, 1] (authors: 0.85)', parseNumber('--lambda'))
    .option('--anchor <anchor>', 'centroid (paper) or nearest-sample (authors’ code)', parseChoice('--anchor', SELECTION_ANCHORS), 'centroid')
    .option('--scope <scope>', 'kept when close to its own cluster’s anchor (paper) or to any anchor (authors’ code); labelled with its own cluster either way', parseChoice('--scope', SELECTION_SCOPES), 'own')
    .option('--min-selected <N>', 'fail when fewer samples are selected', parseWhole('--min-selected', 0), 1)
    .option('--out <dir>', 'folder for selection.csv (default: the --clusters folder): new or empty, or one pul cluster or pul select wrote')
    .option('--force', 'replace an existing selection.csv')
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (opts: SelectOptions) => {
        const out = opts.out ?? opts.clusters;
        const option = opts.out === undefined ? '--clusters' : '--out';
        const file = path.join(out, SELECTION_FILE);
        const target = await prepareOutput(out, {
          kind: 'selection',
          command: 'pul select',
          option,
          mode: 'grow',
          alsoInto: ['clusters'],
          writes: [file],
          inputs: [{ path: opts.features, option: '--features' }, { path: path.join(opts.clusters, ASSIGNMENTS_FILE), option: '--clusters' }, { path: path.join(opts.clusters, CENTROIDS_FILE), option: '--clusters' }],
          legacy: async (entries) => (await legacyClusters(entries)) ?? legacySelection(entries),
        });
        if (existsSync(file) && !opts.force) throw new PulError('output.exists', `${file} exists; add --force to replace it, or choose another --out`, { file, option });
        const started = performance.now();
        const [, folder, clusters] = await Promise.all([activateClusteringBackend(program), readFeatureFolder(opts.features), readClusterFiles(opts.clusters)]);
        const sel = selectReliable(folder.features, clusters, { anchor: opts.anchor, scope: opts.scope, lambda: opts.lambda, minSelected: opts.minSelected }, opts.features);
        await claimOutputDir(target);
        await writeSelectionFile(out, sel, folder.index.map((r) => r.path));
        const pids = folder.index.map((r) => r.pid);
        const precision = pids.every((p): p is number => p !== null) ? selectionPrecision(sel, pids) : null;
        const seconds = (performance.now() - started) / 1000;
        const report = { selected: sel.indices.length, rows: folder.features.rows, lambda: opts.lambda, anchor: opts.anchor, scope: opts.scope, clustersWithoutReliable: sel.emptyClusters.length, precision, seconds, out };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(report)}\n`);
          return;
        }
        const lines = [
          `selected ${sel.indices.length} of ${folder.features.rows} (λ=${opts.lambda}, anchor ${opts.anchor}, scope ${opts.scope}), ${seconds.toFixed(2)} s`,
          `clusters without a reliable sample: ${sel.emptyClusters.length} of ${clusters.k}${sel.emptyClusters.length ? ` (e.g. ${Array.from(sel.emptyClusters.slice(0, 10)).join(', ')})` : ''}`,
        ];
        if (precision !== null) lines.push(`precision ${(100 * precision).toFixed(2)} %`);
        lines.push(`wrote ${out}/selection.csv`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }, { 'selection.lambda': '--lambda', 'selection.anchor': '--anchor', 'selection.scope': '--scope', 'selection.minSelected': '--min-selected' }),
    );
}
