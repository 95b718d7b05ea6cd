/**
 * `pul datasets info PATH [--json] [--check] [--skip-bad] [--format F] [--classes L]` and
 * `pul datasets synth --out DIR [--ids N --cams C --seed S]`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import {
  DATASET_FORMATS,
  ImageReader,
  checkImages,
  corruptImagesError,
  generateSyntheticReid,
  loadDataset,
  parseClassList,
  summarizeDataset,
  type CheckReport,
  type DatasetFormat,
  type DatasetSummary,
} from '../../index.js';
import { allowOutsideOption, datasetLoadOptions } from '../data-options.js';
import { parseChoice } from '../parse-options.js';
import { runAction } from '../run-action.js';

interface InfoOptions {
  json?: boolean;
  check?: boolean;
  skipBad?: boolean;
  format?: DatasetFormat;
  classes?: number[];
  allowOutside?: boolean;
}

interface SynthOptions {
  out: string;
  ids: number;
  cams: number;
  perCam: number;
  galleryPerCam: number;
  height: number;
  width: number;
  seed: number;
  force?: boolean;
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`'${value}' is not a whole number.`);
  return n;
}

function parseClasses(value: string): number[] {
  try {
    return parseClassList(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function formatSummary(s: DatasetSummary, check?: CheckReport): string {
  const lines = [`${s.name} (${s.format}) at ${s.root}`, `images: ${s.images}${s.junk ? `, junk dropped (pid -1): ${s.junk}` : ''}`];
  lines.push('split     images  identities  cameras       distractors  unlabelled');
  for (const [split, x] of Object.entries(s.splits)) {
    lines.push(
      `${split.padEnd(9)} ${String(x.images).padStart(6)}  ${String(x.identities).padStart(10)}  ${x.cameras.join(',').padEnd(12)}  ${String(x.distractors).padStart(11)}  ${String(x.unlabelled).padStart(10)}`,
    );
  }
  const sizes = s.sizes.map((z) => `${z.width}×${z.height}×${z.channels} (${z.count})`).join(', ');
  lines.push(`image sizes (W×H×C, of ${s.sizesFrom} looked at): ${sizes || 'none readable'}`);
  if (check) {
    lines.push(`checked: ${check.checked} images decoded, ${check.corrupt.length} corrupt or unreadable`);
    for (const c of check.corrupt.slice(0, 20)) lines.push(`  corrupt: ${c.path}: ${c.message}`);
    if (check.corrupt.length > 20) lines.push(`  … and ${check.corrupt.length - 20} more`);
  }
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

export function registerDatasets(program: Command): void {
  const datasets = program.command('datasets').description('inspect dataset folders, or generate the built-in synthetic demo set');
  datasets
    .command('info')
    .description('images, identities and cameras per split, junk/distractors, image sizes and warnings of a dataset folder or CSV manifest')
    .argument('<path>', 'dataset folder (Market-1501/Duke, MSMT17, IDX, folder per identity) or CSV manifest')
    .option('--format <format>', `force a layout instead of detecting it: ${DATASET_FORMATS.join('|')}`, parseChoice('--format', DATASET_FORMATS))
    .option('--classes <list>', 'IDX only: keep these labels, e.g. 5-9 or 0,2,4')
    .addOption(allowOutsideOption())
    .option('--check', 'decode every image; list the corrupt ones and exit non-zero if any')
    .option('--skip-bad', 'with --check: report corrupt images but do not fail')
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (root: string, raw: Omit<InfoOptions, 'classes'> & { classes?: string }) => {
        const { classes, ...rest } = raw;
        const opts: InfoOptions = { ...rest, ...(classes === undefined ? {} : { classes: parseClasses(classes) }) };
        const reader = new ImageReader({ cacheBytes: 0 }); // one pass over the set
        const dataset = await loadDataset(root, { reader, ...datasetLoadOptions(opts) });
        const summary = await summarizeDataset(dataset, { reader });
        const check = opts.check ? await checkImages(dataset.samples, { reader }) : undefined;
        process.stdout.write(opts.json ? `${JSON.stringify({ ...summary, ...(check ? { check } : {}) }, null, 2)}\n` : formatSummary(summary, check));
        if (check && check.corrupt.length > 0) {
          const first = check.corrupt.slice(0, 3).map((c) => c.path).join(', ');
          if (opts.skipBad) process.stderr.write(`pul: skipping ${check.corrupt.length} corrupt image(s): ${first}${check.corrupt.length > 3 ? ', …' : ''}\n`);
          else throw corruptImagesError(check, '--skip-bad leaves them out');
        }
      }),
    );
  datasets
    .command('synth')
    .description('generate the synthetic pedestrian re-ID demo set: DIR/source and DIR/target in Market-1501 layout (disjoint identities and cameras)')
    .requiredOption('--out <dir>', 'output folder: new or empty, or with --force a set pul generated (replaced once complete)')
    .option('--force', 'replace the set an earlier pul datasets synth wrote at --out')
    .option('--ids <n>', 'identities per split (train, test) per domain', parseInteger, 50)
    .option('--cams <n>', 'cameras per domain', parseInteger, 4)
    .option('--per-cam <n>', 'train images per identity per camera', parseInteger, 3)
    .option('--gallery-per-cam <n>', 'gallery images per test identity per camera (plus one query)', parseInteger, 2)
    .option('--height <px>', 'image height', parseInteger, 128)
    .option('--width <px>', 'image width', parseInteger, 64)
    .option('--seed <n>', 'random seed (same seed, same images)', parseInteger, 0)
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (opts: SynthOptions & { json?: boolean }) => {
        const report = await generateSyntheticReid(opts);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const lines = [`wrote ${report.images} images to ${report.out}`];
        for (const [domain, d] of Object.entries(report.domains)) lines.push(`  ${domain}: ${d.root} (train ${d.train}, query ${d.query}, gallery ${d.gallery})`);
        lines.push(`  contact sheet: ${report.contactSheet}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }, { 'synthetic.ids': '--ids', 'synthetic.cams': '--cams', 'synthetic.perCam': '--per-cam', 'synthetic.galleryPerCam': '--gallery-per-cam', 'synthetic.height': '--height', 'synthetic.width': '--width' }),
    );
}
