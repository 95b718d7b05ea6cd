/**
 * `npm run bench:metric`: the metric-learning protocol on Fashion-MNIST (issue 15, item 6). For each
 * configuration, `pul train` the fmnist net on the train images of classes 0–4 (30 000) with a loss /
 * sampler, then rank the t10k images of the *unseen* classes 5–9 (5 000) all-vs-all with every epoch's
 * checkpoint: Recall@1/2/4/8, mAP, NMI, training seconds (metrics.jsonl), the per-batch active-triplet
 * share, and the convergence curve (unseen-class Recall@1 against cumulative training seconds).
 * Raw pixels are the untrained baseline. A configuration whose flag or loss this build of pul lacks is
 * reported as skipped with pul's own message; the rest still run.
 *
 *   npm run bench:metric -- [--epochs E] [--only ce,triplet-hard,…] [--out DIR] [--data PATH] [--work DIR] [--list]
 *
 * Writes metric.json, metric.md (machine, commit, command, tables, the commands of every row) and
 * metric-curve.svg to --out (default bench/results). Checkpoints go to --work (default a temp folder,
 * removed at the end).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ImageReader, allVsAllMetrics, classLabels, disposeModel, evaluateCodesAllVsAll, heldOutSamples, packSigns, loadCheckpoint, loadDataset, modelAllVsAll, pixelFeatures, selectBackend, type AllVsAllMetrics, type Sample,
} from '../src/index.js';
import { table } from './peers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../..');
const CLI = path.resolve(here, '../src/cli/main.js');
const KS = [1, 2, 4, 8];
const SOURCE_CLASSES = '0-4';
const TARGET_CLASSES = [5, 6, 7, 8, 9];
/**
 * Default epochs: the whole list in ≤ ~30 min alone on the 2-core VM. The fmnist net trains at
 * ~600–1 200 img/s there (README: 660 img/s for the bare train step), so an epoch of the 30 000 images
 * takes 25–50 s; the smoke run (on a machine 5× oversubscribed) added 13 % of an epoch's time per
 * unseen-class evaluation and 8 % per configuration for start-up and the closed-set check. At 600 img/s:
 * 14 trained configurations × (2 × 56 s + 8 s) ≈ 28 min; 3 epochs would be ≈ 41 min (≈ 25 min at
 * 1 000 img/s). Smart mining's training-set passes come on top.
 */
const DEFAULT_EPOCHS = 2;

/** One row of the results: a loss spec (+ sampler / hash bits) given to `pul train`, or raw pixels. */
interface Config {
  readonly name: string;
  /** `pul train` flags beyond the common ones; null: no training (raw pixels). */
  readonly train: readonly string[] | null;
  readonly note?: string;
}

/**
 * P×K batches for the pair/triplet family: pul train's default P=16 exceeds the 5 training classes, so
 * every batch holds all 5 classes × 13 images (65, about CE's 64).
 */
const PK = ['--pk', '5,13'];

/** CE-only first (the baseline the issue measures against), then each loss and miner. */
const CONFIGS: readonly Config[] = [
  { name: 'pixels', train: null, note: 'raw pixels, no training' },
  { name: 'ce', train: [], note: "pul train's default loss (cross-entropy)" },
  { name: 'ce+triplet-hard', train: ['--loss', 'ce+triplet-hard', ...PK] },
  { name: 'triplet-hard', train: ['--loss', 'triplet-hard', ...PK] },
  { name: 'triplet-soft', train: ['--loss', 'triplet-soft', ...PK] },
  { name: 'triplet-all', train: ['--loss', 'triplet-all', ...PK] },
  { name: 'triplet-weighted', train: ['--loss', 'triplet-weighted', ...PK] },
  { name: 'triplet-random', train: ['--loss', 'triplet-random', ...PK] },
  { name: 'contrastive', train: ['--loss', 'contrastive', ...PK] },
  { name: 'lifted', train: ['--loss', 'lifted', ...PK] },
  { name: 'npair', train: ['--loss', 'npair', ...PK] },
  { name: 'ce+center', train: ['--loss', 'ce+center'] },
  { name: 'triplet-hard+global', train: ['--loss', 'triplet-hard+global', ...PK] },
  // smart mining builds its own batches of --batch (default 64) images: groups of anchor, positive, negative, negative's positive
  { name: 'smart', train: ['--loss', 'triplet-hard+global', '--sampler', 'smart'], note: 'smart mining (Harwood et al. 2017), batch 64' },
  { name: 'triplet-hard+hash-64', train: ['--loss', 'triplet-hard+hash', '--hash-bits', '64', ...PK], note: '64-bit hash head trained with batch-hard triplets + DSH (its codes in the next row)' },
  { name: 'hash-64', train: ['--loss', 'hash', '--hash-bits', '64', ...PK], note: '64-bit hash head: float figures of the tanh outputs; the sign codes by Hamming distance in the next row' },
];

interface EpochResult {
  readonly epoch: number;
  readonly trainSeconds: number;
  /** Training seconds of epochs 1..epoch (metrics.jsonl), the x of the convergence curve. */
  readonly cumulativeSeconds: number;
  readonly imagesPerSecond: number | null;
  readonly loss: number | null;
  readonly recall: readonly number[];
  readonly mAP: number;
  readonly nmi: number | null;
  readonly evalSeconds: number;
  /** Mean share of mined pairs/triplets with non-zero loss over the epoch's batches (null: the loss has none, or pul does not log it). */
  readonly activeShare: number | null;
  readonly activeShares: readonly number[] | null;
  /** A hash head's sign codes ranked by Hamming distance (null: no hash head). */
  readonly hamming: { readonly recall: readonly number[]; readonly mAP: number } | null;
}

interface ConfigResult {
  readonly name: string;
  readonly note: string | null;
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly reason: string | null;
  readonly trainCommand: string | null;
  readonly evalCommand: string;
  /** Wall seconds of `pul train` (start-up, data, checkpoints and the closed-set check included). */
  readonly wallSeconds: number | null;
  readonly epochs: readonly EpochResult[];
}

interface Args {
  epochs: number;
  only: string[] | null;
  out: string;
  data: string;
  work: string | null;
  list: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { epochs: DEFAULT_EPOCHS, only: null, out: path.join(REPO, 'bench', 'results'), data: '/usr/share/datasets/fashion-mnist', work: null, list: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--epochs') {
      a.epochs = Number(value());
      if (!Number.isInteger(a.epochs) || a.epochs < 1) throw new Error(`--epochs ${argv[i]}: a whole number ≥ 1`);
    } else if (flag === '--only') {
      a.only = value().split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = a.only.filter((n) => !CONFIGS.some((c) => c.name === n));
      if (unknown.length > 0) throw new Error(`--only: unknown configuration(s) ${unknown.join(', ')}; known: ${CONFIGS.map((c) => c.name).join(', ')}`);
    } else if (flag === '--out') a.out = path.resolve(value());
    else if (flag === '--data') a.data = path.resolve(value());
    else if (flag === '--work') a.work = path.resolve(value());
    else if (flag === '--list') a.list = true;
    else throw new Error(`unknown option ${flag} (--epochs, --only, --out, --data, --work, --list)`);
  }
  return a;
}

const quote = (s: string): string => (/^[\w./:=,@+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
const command = (args: readonly string[]): string => ['pul', ...args].map(quote).join(' ');

/** The flags of `pul train` this build has (--loss, --sampler, --hash-bits arrive with issue 15's branches). */
function trainFlags(): Set<string> {
  const help = execFileSync(process.execPath, [CLI, 'train', '--help'], { encoding: 'utf8' });
  return new Set(help.match(/--[a-z][a-z-]*/g) ?? []);
}

/** Runs `pul train`, echoing its epoch lines; resolves to its exit code and the last lines of stderr. */
function runTrain(args: readonly string[], log: string): Promise<{ code: number | null; stderr: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => writeFileSync(log, d, { flag: 'a' }));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr = (stderr + text).slice(-20_000);
      writeFileSync(log, text, { flag: 'a' });
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (/epoch \d+\/\d+:|^pul: /.test(line)) process.stderr.write(`    ${line.trim()}\n`);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

/** metrics.jsonl of a training run: one record per epoch (the last record of an epoch number wins). */
function readMetrics(run: string): Map<number, Record<string, unknown>> {
  const byEpoch = new Map<number, Record<string, unknown>>();
  const file = path.join(run, 'metrics.jsonl');
  if (!existsSync(file)) return byEpoch;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line) as Record<string, unknown>;
    if (typeof r['epoch'] === 'number') byEpoch.set(r['epoch'], r);
  }
  return byEpoch;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

async function evaluateRun(run: string, samples: readonly Sample[], reader: ImageReader): Promise<EpochResult[]> {
  const metrics = readMetrics(run);
  const epochs = readdirSync(run).filter((e) => /^epoch-\d+$/.test(e)).sort();
  const out: EpochResult[] = [];
  let cumulative = 0;
  for (const name of epochs) {
    const epoch = Number(name.slice('epoch-'.length));
    const record = metrics.get(epoch) ?? {};
    const trainSeconds = num(record['seconds']) ?? Number.NaN;
    cumulative += trainSeconds;
    const t = performance.now();
    const { model, checkpoint } = await loadCheckpoint(path.join(run, name));
    let m: AllVsAllMetrics;
    let hamming: EpochResult['hamming'] = null;
    try {
      const r = await modelAllVsAll(model, samples, { normalization: checkpoint.manifest.normalization, reader, ks: KS, seed: 0, source: 'fashion-mnist t10k 5–9' });
      m = r.metrics;
      if (model.spec.hashBits !== undefined) hamming = evaluateCodesAllVsAll(packSigns(r.features), classLabels(samples, 'fashion-mnist t10k 5–9'), { ks: KS });
    } finally {
      disposeModel(model);
    }
    const shares = Array.isArray(record['activeShares']) ? (record['activeShares'] as unknown[]).map((v) => num(v) ?? Number.NaN) : null;
    out.push({
      epoch, trainSeconds, cumulativeSeconds: cumulative, imagesPerSecond: num(record['imagesPerSecond']), loss: num(record['loss']),
      recall: m.recall, mAP: m.mAP, nmi: m.nmi, evalSeconds: (performance.now() - t) / 1000, activeShare: num(record['activeShare']), activeShares: shares, hamming,
    });
    process.stderr.write(`    epoch ${epoch}: unseen Recall@1 ${pct(m.recall[0]!)}, mAP ${pct(m.mAP)}, NMI ${m.nmi?.toFixed(4)} (${cumulative.toFixed(0)} s of training)${hamming === null ? '' : `; Hamming codes: Recall@1 ${pct(hamming.recall[0]!)}, mAP ${pct(hamming.mAP)}`}\n`);
  }
  return out;
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}`;

/** The first line of pul's error message (`pul: error [code] …: text`). */
function errorLine(stderr: string): string {
  return stderr.split('\n').find((l) => l.startsWith('pul: ')) ?? stderr.trim().split('\n').at(-1) ?? '';
}

async function runConfig(c: Config, a: Args, work: string, flags: Set<string>, samples: readonly Sample[], reader: ImageReader): Promise<ConfigResult> {
  const data = ['--data', a.data, '--format', 'idx'];
  const evalCommand = (ck: string): string => command(['eval', '--all-vs-all', ...(c.train === null ? ['--pixels'] : ['--checkpoint', ck]), ...data, '--classes', '5-9']);
  if (c.train === null) {
    const t = performance.now();
    const px = await pixelFeatures(samples, { height: 28, width: 28, channels: 1, normalize: 'unit' }, { reader });
    const m = allVsAllMetrics(px, classLabels(samples, a.data), { ks: KS, seed: 0 }, 'raw pixels');
    const evalSeconds = (performance.now() - t) / 1000;
    const epoch: EpochResult = { epoch: 0, trainSeconds: 0, cumulativeSeconds: 0, imagesPerSecond: null, loss: null, recall: m.recall, mAP: m.mAP, nmi: m.nmi, evalSeconds, activeShare: null, activeShares: null, hamming: null };
    return { name: c.name, note: c.note ?? null, status: 'ok', reason: null, trainCommand: null, evalCommand: evalCommand(''), wallSeconds: null, epochs: [epoch] };
  }
  const run = path.join(work, c.name.replace(/[^\w.-]/g, '_'));
  const trainArgs = ['train', ...data, '--classes', SOURCE_CLASSES, '--model', 'fmnist', ...c.train, '--epochs', String(a.epochs), '--seed', '1', '--out', run];
  const base = { name: c.name, note: c.note ?? null, trainCommand: command(trainArgs.map((s) => (s === run ? `runs/${path.basename(run)}` : s))), evalCommand: evalCommand(`runs/${path.basename(run)}/epoch-NNN`) };
  const missing = c.train.filter((f) => f.startsWith('--') && !flags.has(f));
  if (missing.length > 0) return { ...base, status: 'skipped', reason: `this build of pul train has no ${missing.join(', ')}`, wallSeconds: null, epochs: [] };
  // a re-run replaces only a training run of its own (--work may be a folder the user keeps)
  if (existsSync(run)) {
    if (!existsSync(path.join(run, '.pul-output.json'))) throw new Error(`${run} exists and is not a pul training run; choose another --work`);
    rmSync(run, { recursive: true, force: true });
  }
  const r = await runTrain(trainArgs, path.join(work, `${path.basename(run)}.log`));
  const trained = existsSync(run) && readdirSync(run).some((e) => /^epoch-\d+$/.test(e));
  if (r.code !== 0 && !trained) {
    // refused before any epoch: a loss / sampler this build does not know (usage error) is a skip, anything else a failure
    return { ...base, status: r.code === 2 ? 'skipped' : 'failed', reason: errorLine(r.stderr), wallSeconds: r.seconds, epochs: [] };
  }
  const epochs = await evaluateRun(run, samples, reader);
  return { ...base, status: r.code === 0 ? 'ok' : 'failed', reason: r.code === 0 ? null : `pul train exited ${r.code} after ${epochs.length} epoch(s): ${errorLine(r.stderr)}`, wallSeconds: r.seconds, epochs };
}

function machine(backend: string): Record<string, unknown> {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    if (execFileSync('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '') commit += ' (with uncommitted changes)';
  } catch {
    // not a git checkout
  }
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGB: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version, platform: `${os.platform()} ${os.release()}`, backend, commit };
}

const last = (r: ConfigResult): EpochResult | undefined => r.epochs.at(-1);

/** "first-epoch mean → last-epoch mean (first batch … last batch)" of the active share, or a dash. */
function activeShareCell(r: ConfigResult): string {
  const withShares = r.epochs.filter((e) => e.activeShare !== null);
  if (withShares.length === 0) return '–';
  const first = withShares[0]!;
  const lastEpoch = withShares.at(-1)!;
  const batches = lastEpoch.activeShares ?? [];
  const firstBatch = first.activeShares?.[0];
  return `${first.activeShare!.toFixed(3)} → ${lastEpoch.activeShare!.toFixed(3)}${firstBatch !== undefined && batches.length > 0 ? ` (batch 1: ${firstBatch.toFixed(3)}, last: ${batches.at(-1)!.toFixed(3)})` : ''}`;
}

function markdown(results: readonly ConfigResult[], info: Record<string, unknown>, a: Args, invocation: string, started: string, seconds: number): string {
  const lines: string[] = [];
  lines.push('# Metric learning on Fashion-MNIST: train on classes 0–4, retrieve among unseen classes 5–9', '');
  lines.push(`\`${invocation}\` — ${started}, ${(seconds / 60).toFixed(1)} min in all`, '');
  lines.push(`Machine: ${String(info['cpu'])}, ${String(info['cores'])} cores, ${String(info['memoryGB'])} GB, node ${String(info['node'])}, ${String(info['platform'])}; backend ${String(info['backend'])}; pul commit ${String(info['commit'])}.`, '');
  lines.push(
    `Protocol: \`pul train\` the fmnist net on the 30 000 train images of classes 0–4 (${a.epochs} epochs, seed 1, otherwise pul train's defaults), then every epoch's checkpoint embeds the 5 000 t10k images of classes 5–9; each is a query against the 4 999 others (cosine, leave-one-out): Recall@K = share of queries with a same-class image among the K nearest, mAP over all same-class images, NMI of k-means (K = 5, seed 0). Seconds are training seconds from metrics.jsonl (no start-up, evaluation or checkpoint writing); active share = mean share of mined pairs/triplets with non-zero loss, first epoch → last.`,
    '',
  );
  const head = ['configuration', 'R@1', 'R@2', 'R@4', 'R@8', 'mAP', 'NMI', 'train s', 'active share', 'note'];
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const r of results) {
    const e = last(r);
    if (r.status !== 'ok' || e === undefined) {
      lines.push(`| ${r.name} | ${r.status}: ${(r.reason ?? '').replace(/\|/g, '\\|')} |||||||||`);
      continue;
    }
    const train = r.trainCommand === null ? '–' : e.cumulativeSeconds.toFixed(0);
    lines.push(`| ${r.name} | ${e.recall.map(pct).join(' | ')} | ${pct(e.mAP)} | ${e.nmi === null ? '–' : e.nmi.toFixed(4)} | ${train} | ${activeShareCell(r)} | ${r.note ?? ''} |`);
    if (e.hamming !== null) {
      lines.push(`| ${r.name} (Hamming) | ${e.hamming.recall.map(pct).join(' | ')} | ${pct(e.hamming.mAP)} | – | ${train} | – | sign codes, XOR + popcount: ${pct(e.hamming.mAP / e.mAP)} % of the float mAP |`);
    }
  }
  lines.push('', '## Convergence: unseen-class Recall@1 (%) against cumulative training seconds, one point per epoch', '');
  for (const r of results) {
    if (r.status !== 'ok' || r.trainCommand === null) continue;
    lines.push(`- ${r.name}: ${r.epochs.map((e) => `${e.cumulativeSeconds.toFixed(0)} s → ${pct(e.recall[0]!)}`).join(', ')}`);
  }
  lines.push('', 'The curve as a picture: metric-curve.svg.', '');
  const withShares = results.filter((r) => r.epochs.some((e) => e.activeShares !== null && e.activeShares.length > 0));
  if (withShares.length > 0) {
    lines.push('## Active share per batch (share of mined pairs/triplets with non-zero loss; every batch of every epoch in metric.json)', '');
    for (const r of withShares) {
      const all = r.epochs.flatMap((e) => e.activeShares ?? []);
      const at = [...new Set([0, ...Array.from({ length: 10 }, (_, i) => Math.round(((i + 1) * (all.length - 1)) / 10))])];
      lines.push(`- ${r.name}: ${at.map((b) => `batch ${b + 1}: ${all[b]!.toFixed(3)}`).join(', ')}`);
    }
    lines.push('');
  }
  lines.push('## Commands', '');
  for (const r of results) {
    lines.push(`- ${r.name}: ${r.trainCommand === null ? '' : `\`${r.trainCommand}\`, then per epoch `}\`${r.evalCommand}\``);
  }
  return `${lines.join('\n')}\n`;
}

/** Recall@1 against cumulative training seconds, one polyline per configuration, raw pixels as a dashed line. */
function svgCurve(results: readonly ConfigResult[]): string {
  const W = 760;
  const H = 420;
  const m = { l: 56, r: 200, t: 20, b: 44 };
  const trained = results.filter((r) => r.status === 'ok' && r.trainCommand !== null && r.epochs.length > 0);
  const pixels = results.find((r) => r.name === 'pixels' && r.status === 'ok');
  const maxX = Math.max(1, ...trained.flatMap((r) => r.epochs.map((e) => e.cumulativeSeconds)));
  const ys = [...trained.flatMap((r) => r.epochs.map((e) => e.recall[0]!)), ...(pixels ? [pixels.epochs[0]!.recall[0]!] : [])];
  const lo = Math.max(0, Math.floor((Math.min(1, ...ys) - 0.02) * 20) / 20);
  const hi = Math.min(1, Math.ceil((Math.max(0, ...ys) + 0.01) * 20) / 20);
  const x = (s: number) => m.l + (s / maxX) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - ((v - lo) / Math.max(1e-9, hi - lo)) * (H - m.t - m.b);
  const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173'];
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = lo + ((hi - lo) * i) / 5;
    const s = (maxX * i) / 5;
    parts.push(`<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${pct(v)}</text>`, `<text x="${x(s)}" y="${H - m.b + 16}" text-anchor="middle">${s.toFixed(0)}</text>`);
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">training seconds</text>`, `<text x="14" y="${(m.t + H - m.b) / 2}" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})" text-anchor="middle">unseen-class Recall@1 (%)</text>`);
  if (pixels) {
    const py = y(pixels.epochs[0]!.recall[0]!);
    parts.push(`<line x1="${m.l}" y1="${py}" x2="${W - m.r}" y2="${py}" stroke="black" stroke-dasharray="4 3"/>`, `<text x="${W - m.r + 6}" y="${py + 4}">raw pixels</text>`);
  }
  trained.forEach((r, i) => {
    const colour = colours[i % colours.length]!;
    const points = [[0, null] as const, ...r.epochs.map((e) => [e.cumulativeSeconds, e.recall[0]!] as const)].filter((p): p is readonly [number, number] => p[1] !== null);
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points.map(([s, v]) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
    for (const [s, v] of points) parts.push(`<circle cx="${x(s).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${colour}"/>`);
    parts.push(`<text x="${W - m.r + 6}" y="${m.t + 14 * (i + (pixels ? 1.5 : 0.5))}" fill="${colour}">${r.name}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const configs = CONFIGS.filter((c) => a.only === null || a.only.includes(c.name));
  if (a.list) {
    for (const c of CONFIGS) process.stdout.write(`${c.name.padEnd(22)}${c.train === null ? '(no training)' : c.train.join(' ') || '(defaults)'}${c.note ? `  — ${c.note}` : ''}\n`);
    return;
  }
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const info = await selectBackend();
  const flags = trainFlags();
  const reader = new ImageReader();
  const samples = heldOutSamples(await loadDataset(a.data, { format: 'idx', classes: TARGET_CLASSES, reader }));
  if (samples.length === 0) throw new Error(`${a.data}: no t10k images of classes 5–9`);
  const work = a.work ?? mkdtempSync(path.join(os.tmpdir(), 'pul-bench-metric-'));
  mkdirSync(work, { recursive: true });
  const results: ConfigResult[] = [];
  try {
    for (const c of configs) {
      process.stderr.write(`[${results.length + 1}/${configs.length}] ${c.name}\n`);
      const r = await runConfig(c, a, work, flags, samples, reader);
      if (r.status !== 'ok') process.stderr.write(`    ${r.status}: ${r.reason}\n`);
      results.push(r);
    }
  } finally {
    if (a.work === null) rmSync(work, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const invocation = `npm run bench:metric -- ${process.argv.slice(2).map(quote).join(' ')}`.trim();
  const machineInfo = machine(info.backend);
  mkdirSync(a.out, { recursive: true });
  const json = { bench: 'metric', startedAt, seconds, command: invocation, machine: machineInfo, data: a.data, epochs: a.epochs, trainClasses: SOURCE_CLASSES, evalClasses: TARGET_CLASSES, evalImages: samples.length, ks: KS, results };
  writeFileSync(path.join(a.out, 'metric.json'), `${JSON.stringify(json, null, 1)}\n`);
  writeFileSync(path.join(a.out, 'metric.md'), markdown(results, machineInfo, a, invocation, startedAt, seconds));
  writeFileSync(path.join(a.out, 'metric-curve.svg'), svgCurve(results));
  const rows = results.map((r) => {
    const e = last(r);
    return r.status === 'ok' && e ? [r.name, ...e.recall.map(pct), pct(e.mAP), e.nmi === null ? '–' : e.nmi.toFixed(4), r.trainCommand === null ? '–' : e.cumulativeSeconds.toFixed(0), activeShareCell(r)] : [r.name, `${r.status}: ${r.reason ?? ''}`, '', '', '', '', '', '', ''];
  });
  process.stdout.write(`${table(['configuration', 'R@1', 'R@2', 'R@4', 'R@8', 'mAP', 'NMI', 'train s', 'active share'], rows)}\n`);
  process.stdout.write(`wrote ${path.join(a.out, 'metric.json')}, metric.md, metric-curve.svg (${(seconds / 60).toFixed(1)} min)\n`);
  if (results.some((r) => r.status === 'failed')) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
