/**
 * What `pul datasets info` reports: per-split counts of images, identities and cameras, junk and
 * distractors, image sizes, and the warnings that catch the usual mistakes (no cross-camera
 * gallery match for a query identity; a single camera). `checkImages` decodes every image.
 */
import { PulError } from '../core/errors.js';
import type { ProgressSink } from '../core/progress.js';
import { ImageReader } from './images.js';
import { SPLITS, parseIdxRef, type Dataset, type Sample, type Split } from './sample.js';

/** Counts of one split. */
export interface SplitSummary {
  readonly images: number;
  readonly identities: number;
  readonly cameras: readonly number[];
  /** Images with pid 0 (Market-1501 distractors). */
  readonly distractors: number;
  readonly unlabelled: number;
}

/** The whole report. */
export interface DatasetSummary {
  readonly name: string;
  readonly root: string;
  readonly format: Dataset['format'];
  readonly images: number;
  readonly junk: number;
  readonly splits: Readonly<Partial<Record<Split, SplitSummary>>>;
  /** Distinct W×H×C of the images looked at, with counts (`sizesFrom` says how many). */
  readonly sizes: readonly { readonly width: number; readonly height: number; readonly channels: number; readonly count: number }[];
  readonly sizesFrom: number;
  readonly warnings: readonly string[];
}

/**
 * Summarises a dataset; reads the headers of up to `sizeSample` images (evenly spread) for sizes.
 *
 * @example
 * ```ts
 * const s = await summarizeDataset(await loadDataset('datasets/demo/target'));
 * console.log(s.splits.query?.identities, s.warnings);
 * ```
 */
export async function summarizeDataset(dataset: Dataset, opts: { readonly reader?: ImageReader; readonly sizeSample?: number } = {}): Promise<DatasetSummary> {
  const reader = opts.reader ?? new ImageReader({ cacheBytes: 0 });
  const splits: Partial<Record<Split, SplitSummary>> = {};
  for (const split of SPLITS) {
    const s = dataset.samples.filter((x) => x.split === split);
    if (s.length === 0) continue;
    const ids = new Set<number>();
    const cams = new Set<number>();
    let distractors = 0;
    let unlabelled = 0;
    for (const x of s) {
      cams.add(x.camid);
      if (x.pid === null) unlabelled++;
      else {
        ids.add(x.pid);
        if (x.pid === 0 && dataset.format === 'market1501') distractors++;
      }
    }
    splits[split] = { images: s.length, identities: ids.size, cameras: [...cams].sort((a, b) => a - b), distractors, unlabelled };
  }
  const n = Math.min(opts.sizeSample ?? 64, dataset.samples.length);
  const sizeCount = new Map<string, number>();
  const unreadable: string[] = [];
  for (let i = 0; i < n; i++) {
    const sample = dataset.samples[Math.floor((i * dataset.samples.length) / n)]!;
    try {
      const { width, height, channels } = await reader.size(sample.path);
      const key = `${width}x${height}x${channels}`;
      sizeCount.set(key, (sizeCount.get(key) ?? 0) + 1);
    } catch (err) {
      if (!(err instanceof PulError)) throw err;
      unreadable.push(sample.path);
    }
  }
  const sizes = [...sizeCount].map(([key, count]) => {
    const [width = 0, height = 0, channels = 0] = key.split('x').map(Number);
    return { width, height, channels, count };
  });
  const warnings = datasetWarnings(dataset.samples);
  if (unreadable.length > 0) {
    const which = unreadable.length === n ? `none of the ${n} images looked at is a readable image` : `${unreadable.length} of the ${n} images looked at are not readable images`;
    warnings.unshift(`${which} (e.g. ${unreadable[0]}); --check decodes every image and lists the bad ones`);
  }
  return { name: dataset.name, root: dataset.root, format: dataset.format, images: dataset.samples.length, junk: dataset.junk, splits, sizes, sizesFrom: n, warnings };
}

/** Warnings about query identities without a gallery match in another camera, and single-camera data. */
export function datasetWarnings(samples: readonly Sample[]): string[] {
  const warnings: string[] = [];
  const cams = new Set(samples.map((s) => s.camid));
  if (samples.length > 0 && cams.size === 1) {
    warnings.push(`all ${samples.length} images come from one camera (camid ${[...cams][0]}): cross-camera evaluation is impossible and camera shift cannot be learned`);
  }
  const query = samples.filter((s) => s.split === 'query');
  const galleryCams = new Map<number, Set<number>>();
  for (const s of samples) {
    if (s.split !== 'gallery' || s.pid === null) continue;
    let set = galleryCams.get(s.pid);
    if (!set) galleryCams.set(s.pid, (set = new Set()));
    set.add(s.camid);
  }
  const unmatched: number[] = [];
  let unmatchedImages = 0;
  const seen = new Set<number>();
  for (const q of query) {
    if (q.pid === null) continue;
    const cs = galleryCams.get(q.pid);
    const ok = cs !== undefined && [...cs].some((c) => c !== q.camid);
    if (!ok) {
      unmatchedImages++;
      if (!seen.has(q.pid)) unmatched.push(q.pid);
      seen.add(q.pid);
    }
  }
  if (unmatched.length > 0) {
    const shown = unmatched.slice(0, 5).join(', ') + (unmatched.length > 5 ? ', …' : '');
    warnings.push(`${unmatchedImages} query image(s) of ${unmatched.length} identit${unmatched.length === 1 ? 'y' : 'ies'} (${shown}) have no gallery image of the same identity from another camera; they will be skipped in evaluation`);
  }
  return warnings;
}

/** The result of decoding every image. */
export interface CheckReport {
  readonly checked: number;
  readonly corrupt: readonly { readonly path: string; readonly code: string; readonly message: string }[];
}

/** Fully decodes every sample's image and lists the ones that fail (corrupt, truncated, unreadable). */
export async function checkImages(samples: readonly Sample[], opts: { readonly reader?: ImageReader; readonly concurrency?: number; readonly onProgress?: (done: number) => void } = {}): Promise<CheckReport> {
  const reader = opts.reader ?? new ImageReader({ cacheBytes: 0 });
  const corrupt: { path: string; code: string; message: string }[] = [];
  let cursor = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (let i = cursor++; i < samples.length; i = cursor++) {
      const s = samples[i]!;
      try {
        // IDX entries decode at their own size (no resize); files at 8×8, which still decodes every byte
        const ref = parseIdxRef(s.path);
        const size = ref ? await reader.size(s.path) : { height: 8, width: 8 };
        await reader.readBytes(s.path, { height: size.height, width: size.width, channels: 1 });
      } catch (err) {
        if (!(err instanceof PulError)) throw err;
        corrupt.push({ path: s.path, code: err.code, message: err.message });
      }
      done++;
      if (done % 1000 === 0) opts.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, samples.length) }, worker));
  corrupt.sort((a, b) => a.path.localeCompare(b.path));
  return { checked: samples.length, corrupt };
}

/** What a command does with images that cannot be decoded, found before any work: stop, or leave them out. */
export type BadImagePolicy = 'check' | 'skip';

/** The samples kept by screenImages, the ones left out and why. */
export interface ScreenedSamples {
  readonly kept: readonly Sample[];
  readonly skipped: readonly Sample[];
  readonly report: CheckReport;
}

/** image.corrupt naming the first few bad files and their count, then `hint` (what the user can do). */
export function corruptImagesError(report: CheckReport, hint: string): PulError {
  const first = report.corrupt.slice(0, 3).map((c) => c.path).join(', ') + (report.corrupt.length > 3 ? ', …' : '');
  return new PulError('image.corrupt', `${report.corrupt.length} of ${report.checked} images cannot be decoded (first: ${first}); ${hint}`, report.corrupt[0] ? { file: report.corrupt[0].path } : {});
}

/**
 * Decodes every image of `samples` up front (checkImages): with 'check' a bad one stops the command
 * (image.corrupt listing them, ending with `hint`); with 'skip' they are left out and returned.
 */
export async function screenImages(
  samples: readonly Sample[],
  policy: BadImagePolicy,
  opts: { readonly reader?: ImageReader; readonly progress?: ProgressSink; readonly hint: string },
): Promise<ScreenedSamples> {
  const task = 'check images';
  const report = await checkImages(samples, { ...(opts.reader ? { reader: opts.reader } : {}), onProgress: (done) => opts.progress?.update({ task, done, total: samples.length }) });
  if (samples.length % 1000 !== 0) opts.progress?.update({ task, done: samples.length, total: samples.length });
  if (report.corrupt.length === 0) return { kept: samples, skipped: [], report };
  if (policy === 'check') throw corruptImagesError(report, opts.hint);
  const bad = new Set(report.corrupt.map((c) => c.path));
  return { kept: samples.filter((s) => !bad.has(s.path)), skipped: samples.filter((s) => bad.has(s.path)), report };
}
