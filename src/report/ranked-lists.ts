/**
 * Ranked lists for a person to look at (torchreid's visrank): each query's nearest gallery items, marked
 * as the Market-1501 protocol counts them, with the query's AP from the same accumulator that gives the
 * mAP, so the page and `pul eval` agree to the last digit.
 */
import { l2Normalize } from '../features/feature-matrix.js';
import { distanceBlocks } from '../evaluation/distance.js';
import { rerankedDistanceBlocks } from '../evaluation/rerank.js';
import { labelsOf, type EvaluateOptions, type LabelledFeatures } from '../evaluation/evaluate.js';
import { RankAccumulator, type RankReport } from '../evaluation/rank.js';
import { PulError } from '../core/errors.js';

/**
 * How the protocol treats a gallery item for this query: a true `match`, a `wrong` one (another identity,
 * distractors included), or left out of the ranking: `junk` (pid −1) and `same-camera` (the query's
 * identity seen by the query's camera, under the camera filter).
 */
export type RankedMark = 'match' | 'wrong' | 'junk' | 'same-camera';

export interface RankedEntry {
  /** Gallery row. */
  readonly gallery: number;
  readonly distance: number;
  readonly mark: RankedMark;
  /** 1-based rank among the items the protocol counts; null for junk and same-camera items. */
  readonly rank: number | null;
}

export interface RankedQuery {
  /** Query row. */
  readonly query: number;
  /** The query's AP (the evaluation's definition); null when it is skipped (no true match). */
  readonly ap: number | null;
  /** The `top` nearest counted items, with the left-out ones that rank among them (at most `top` of those), nearest first. */
  readonly entries: readonly RankedEntry[];
}

export interface RankedListOptions extends EvaluateOptions {
  /** Counted gallery items per query (default 10). */
  readonly top?: number;
}

/** Ranked lists of every query and the evaluation's report (mAP, CMC, …) computed from the same distances. */
export interface RankedLists {
  readonly queries: readonly RankedQuery[];
  readonly report: RankReport;
  readonly top: number;
}

/**
 * Each query's `top` nearest gallery items (ties to the lower gallery index, as the evaluation), marked
 * match / wrong / junk / same-camera, and its AP. Cosine distances on L2-normalised rows by default.
 * @example
 * const lists = rankedLists(query, gallery, { top: 10 });
 * lists.queries[0].entries[0].mark; // 'match' when the nearest counted item is the same person
 */
export function rankedLists(query: LabelledFeatures, gallery: LabelledFeatures, options: RankedListOptions = {}): RankedLists {
  const top = options.top ?? 10;
  if (!Number.isInteger(top) || top < 1) throw new PulError('option.outOfRange', `${top} results per query: must be a whole number ≥ 1`, { option: '--visrank' });
  if (query.features.dim !== gallery.features.dim) throw new PulError('features.mismatch', `query features have ${query.features.dim} dimensions, gallery features ${gallery.features.dim}`);
  const metric = options.metric ?? 'cosine';
  const q = labelsOf(query.index, 'query');
  const g = labelsOf(gallery.index, 'gallery');
  const accumulator = new RankAccumulator(g, { ...options, ranks: options.ranks ?? [1, 5, 10, 20] });
  const qf = metric === 'cosine' ? l2Normalize(query.features) : query.features;
  const gf = metric === 'cosine' ? l2Normalize(gallery.features) : gallery.features;
  const blocks = options.rerank ? rerankedDistanceBlocks(qf, gf, { ...options.rerank, metric }) : distanceBlocks(qf, gf, { metric });
  const queries: RankedQuery[] = [];
  const G = gf.rows;
  for (const block of blocks) {
    for (let i = 0; i < block.rows; i++) {
      const qi = block.first + i;
      const row = block.data.subarray(i * G, (i + 1) * G);
      const ap = accumulator.addQuery(qi, row, q.pids[qi]!, q.camids[qi]!);
      queries.push({ query: qi, ap, entries: nearest(row, q.pids[qi]!, q.camids[qi]!, g.pids, g.camids, top, accumulator.removeSameCamera) });
    }
  }
  return { queries, report: accumulator.report(), top };
}

/** The `top` nearest counted items and the left-out items among them, by (distance, index). */
function nearest(distances: Float32Array, pid: number, camid: number, gPids: Int32Array, gCams: Int32Array, top: number, removeSameCamera: boolean): RankedEntry[] {
  const counted = new BoundedList(top);
  const ignored = new BoundedList(top);
  for (let g = 0; g < distances.length; g++) {
    const gp = gPids[g]!;
    const left = gp === -1 || (gp === pid && removeSameCamera && gCams[g] === camid);
    (left ? ignored : counted).offer(g, distances[g]!);
  }
  const last = counted.items.at(-1);
  const entries: RankedEntry[] = [];
  let i = 0;
  let j = 0;
  let rank = 0;
  const before = (a: { g: number; d: number }, b: { g: number; d: number }) => a.d < b.d || (a.d === b.d && a.g < b.g);
  while (i < counted.items.length || j < ignored.items.length) {
    const c = counted.items[i];
    const x = ignored.items[j];
    if (x !== undefined && (c === undefined ? last === undefined || before(x, last) : before(x, c))) {
      entries.push({ gallery: x.g, distance: x.d, mark: gPids[x.g] === -1 ? 'junk' : 'same-camera', rank: null });
      j++;
    } else if (c !== undefined) {
      entries.push({ gallery: c.g, distance: c.d, mark: gPids[c.g] === pid ? 'match' : 'wrong', rank: ++rank });
      i++;
    } else break;
  }
  return entries;
}

/** The `size` smallest (distance, index) pairs offered, kept sorted by insertion. */
class BoundedList {
  readonly items: { g: number; d: number }[] = [];
  constructor(private readonly size: number) {}

  offer(g: number, d: number): void {
    const items = this.items;
    const worst = items[items.length - 1];
    // indices arrive in increasing order, so an equal distance ranks after what is kept
    if (items.length === this.size && worst !== undefined && d >= worst.d) return;
    let at = items.length;
    while (at > 0 && items[at - 1]!.d > d) at--;
    items.splice(at, 0, { g, d });
    if (items.length > this.size) items.pop();
  }
}
