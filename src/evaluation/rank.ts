/**
 * Re-ID ranking metrics under the Market-1501 protocol (PROTOCOLS.md; torchreid's eval_market1501):
 * per query, gallery items with the same pid and camera are removed, junk (pid −1) is removed,
 * distractors (pid 0) stay as negatives; ties in distance go to the lower gallery index. A query with
 * no remaining true match is skipped and counted.
 *
 * Only the ranks of the true matches are needed, not a sorted gallery: for each true match, count the
 * valid non-matching items ahead of it (smaller distance, or equal and lower index). That is one pass
 * over the gallery row per query, with a binary search only for items closer than the farthest match.
 */

/** Average precision as torchreid (`standard`) or the original Market-1501 code (`trapezoid`). */
export type ApDefinition = 'standard' | 'trapezoid';

/** CMC ranks, AP definition and the same-camera filter of the Market-1501 protocol. */
export interface RankOptions {
  /** CMC ranks to report, 1-based (default 1, 5, 10, 20). */
  readonly ranks?: readonly number[];
  /** 'standard': mean precision at each true match (torchreid); 'trapezoid': the original Market/PUL code. */
  readonly ap?: ApDefinition;
  /** Remove gallery items of the query's pid seen by the query's camera (default true; false for plain retrieval). */
  readonly removeSameCamera?: boolean;
}

/** mAP, CMC at the ranks asked, mINP, and the queries evaluated or skipped. */
export interface RankReport {
  readonly mAP: number;
  /** CMC at each of `ranks`, in the same order. */
  readonly cmc: readonly number[];
  readonly ranks: readonly number[];
  readonly mINP: number;
  readonly validQueries: number;
  readonly skippedQueries: number;
  /** Indices of skipped queries (at most the first 20). */
  readonly skippedExamples: readonly number[];
}

export interface Labels {
  readonly pids: Int32Array;
  readonly camids: Int32Array;
}

/**
 * Accumulates per-query results; feed it distance rows in any order, then call report().
 * @example
 * const acc = new RankAccumulator({ pids: Int32Array.of(7, 0), camids: Int32Array.of(1, 1) });
 * acc.addQuery(0, Float32Array.of(0.4, 0.1), 7, 0); // the distractor is nearer: AP 1/2
 * acc.report().mAP; // 0.5
 */
export class RankAccumulator {
  private readonly ranks: readonly number[];
  private readonly ap: ApDefinition;
  /** Whether gallery items of the query's pid and camera are removed (the Market-1501 filter). */
  readonly removeSameCamera: boolean;
  private readonly galleryByPid = new Map<number, number[]>();
  private readonly cmcHits: Float64Array;
  private apSum = 0;
  private inpSum = 0;
  private valid = 0;
  private skipped = 0;
  private readonly skippedExamples: number[] = [];

  constructor(private readonly gallery: Labels, options: RankOptions = {}) {
    this.ranks = options.ranks ?? [1, 5, 10, 20];
    this.ap = options.ap ?? 'standard';
    this.removeSameCamera = options.removeSameCamera ?? true;
    this.cmcHits = new Float64Array(this.ranks.length);
    gallery.pids.forEach((pid, g) => {
      const list = this.galleryByPid.get(pid);
      if (list) list.push(g);
      else this.galleryByPid.set(pid, [g]);
    });
  }

  /** The query's true matches (gallery indices): its pid, minus its own camera's under the camera filter. */
  private matchesOf(pid: number, camid: number): number[] {
    const sameId = pid < 0 ? [] : (this.galleryByPid.get(pid) ?? []);
    return this.removeSameCamera ? sameId.filter((g) => this.gallery.camids[g] !== camid) : sameId.slice();
  }

  /** How many true matches a query of this pid and camera has (0: it will be skipped). */
  matchCount(pid: number, camid: number): number {
    return this.matchesOf(pid, camid).length;
  }

  private skip(queryIndex: number): void {
    this.skipped++;
    if (this.skippedExamples.length < 20) this.skippedExamples.push(queryIndex);
  }

  /** One query: `distances` holds its distance to every gallery item, in gallery order. Returns its AP, or null when it is skipped (no true match). */
  addQuery(queryIndex: number, distances: Float32Array, pid: number, camid: number): number | null {
    const matches = this.matchesOf(pid, camid);
    if (matches.length === 0) {
      this.skip(queryIndex);
      return null;
    }
    const gPids = this.gallery.pids;
    matches.sort((a, b) => distances[a]! - distances[b]! || a - b);
    const R = matches.length;
    const matchDist = Float64Array.from(matches, (g) => distances[g]!);
    const last = matchDist[R - 1]!;
    const lastIndex = matches[R - 1]!;
    // ahead[p]: valid non-matches ahead of matches p..R-1 (counted at the first match they precede)
    const ahead = new Int32Array(R + 1);
    for (let g = 0; g < distances.length; g++) {
      const d = distances[g]!;
      if (d > last || (d === last && g > lastIndex)) continue;
      const gp = gPids[g]!;
      if (gp === pid || gp === -1) continue; // a match, a removed same-camera item, or junk
      // first match p with key(g) < key(match p)
      let lo = 0;
      let hi = R - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const md = matchDist[mid]!;
        if (d < md || (d === md && g < matches[mid]!)) hi = mid;
        else lo = mid + 1;
      }
      ahead[lo]!++;
    }
    const positions = new Int32Array(R);
    for (let j = 0, before = 0; j < R; j++) {
      before += ahead[j]!;
      positions[j] = before + j;
    }
    return this.score(positions);
  }

  /**
   * addQuery for whole-number distances in [0, maxDistance] (Hamming distances): one counting pass over
   * the gallery instead of a search, for the same ranks and the same tie rule (equal distance: lower
   * gallery index first). Short codes tie often, which makes addQuery's search visit most of the gallery.
   */
  addQueryCounts(queryIndex: number, distances: Float32Array, maxDistance: number, pid: number, camid: number): void {
    const R = this.matchCount(pid, camid);
    const { pids: gPids, camids: gCams } = this.gallery;
    const count = new Int32Array(maxDistance + 1);
    const matchDist = new Int32Array(R);
    const equalBefore = new Int32Array(R);
    let m = 0;
    for (let g = 0; R > 0 && g < distances.length; g++) {
      const gp = gPids[g]!;
      const d = distances[g]! | 0;
      if (gp === pid) {
        if (!this.removeSameCamera || gCams[g] !== camid) {
          matchDist[m] = d;
          equalBefore[m++] = count[d]!;
        }
      } else if (gp !== -1) count[d]!++;
    }
    this.addCountedQuery(queryIndex, count, matchDist, equalBefore);
  }

  /**
   * One query from a counting pass over the gallery (whole-number distances, e.g. native Hamming ranking):
   * `count[d]` = valid non-matches at distance d; per true match in gallery order, its distance and the
   * valid non-matches at that distance met before it. No match: the query is skipped. `count` is overwritten.
   */
  addCountedQuery(queryIndex: number, count: Int32Array, matchDist: Int32Array, equalBefore: Int32Array): void {
    const R = matchDist.length;
    if (R === 0) {
      this.skip(queryIndex);
      return;
    }
    // count → valid non-matches strictly nearer than each distance
    for (let d = 0, nearer = 0; d < count.length; d++) {
      const c = count[d]!;
      count[d] = nearer;
      nearer += c;
    }
    const order = Array.from({ length: R }, (_, j) => j).sort((a, b) => matchDist[a]! - matchDist[b]! || a - b);
    this.score(Int32Array.from(order, (j, k) => count[matchDist[j]!]! + equalBefore[j]! + k));
  }

  /** AP, INP and CMC hits of one query from its matches' 0-based positions among the valid items, ascending; returns the AP. */
  private score(positions: Int32Array): number {
    const R = positions.length;
    let ap = 0;
    for (let j = 0; j < R; j++) {
      const rank = positions[j]!;
      const precision = (j + 1) / (rank + 1);
      if (this.ap === 'standard') {
        ap += precision;
      } else {
        // Market-1501's MATLAB / PUL's compute_mAP: trapezoid between the precision before and at the hit
        const old = rank === 0 ? 1 : j / rank;
        ap += (old + precision) / 2;
      }
    }
    const firstRank = positions[0]!;
    this.apSum += ap / R;
    this.inpSum += R / (positions[R - 1]! + 1);
    this.ranks.forEach((k, i) => {
      if (firstRank < k) this.cmcHits[i]!++;
    });
    this.valid++;
    return ap / R;
  }

  report(): RankReport {
    const n = this.valid;
    return {
      mAP: n ? this.apSum / n : 0,
      cmc: Array.from(this.cmcHits, (h) => (n ? h / n : 0)),
      ranks: [...this.ranks],
      mINP: n ? this.inpSum / n : 0,
      validQueries: n,
      skippedQueries: this.skipped,
      skippedExamples: [...this.skippedExamples],
    };
  }
}
