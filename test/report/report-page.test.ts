/**
 * The report page's content from hand-made cases with known answers: the ranked list of each query
 * (order, marks, ranks, AP equal to the evaluation's), the cluster sample with noise rows, and the page
 * built from them (sections, chart points, no network references).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PulError, evaluateFeatures, featureMatrix, rankedLists, renderReportHtml, sampleClusters, selectBackend, type LabelledFeatures } from '../../src/index.js';
import { rankedSection } from '../../src/report/build-report.js';
import { ThumbnailSet } from '../../src/report/thumbnails.js';

/** Points on a line (2-D, y = 0) with their pid and camera. */
const folder = (rows: readonly [x: number, pid: number, camid: number][], prefix: string): LabelledFeatures => ({
  features: featureMatrix(rows.length, 2, Float32Array.from(rows.flatMap(([x]) => [x, 0]))),
  index: rows.map(([, pid, camid], i) => ({ path: `/data/${prefix}${i}.jpg`, pid, camid })),
});

// gallery: g0 the query's person seen by the query's camera, g1/g5 true matches, g2 another person, g3 junk, g4 a distractor
const GALLERY = folder([[0.1, 1, 1], [0.4, 1, 2], [0.3, 2, 1], [0.2, -1, 3], [0.5, 0, 2], [0.6, 1, 3]], 'g');
const QUERY = folder([[0, 1, 1], [0.32, 2, 2], [0.42, 9, 1]], 'q');

describe('ranked lists', () => {
  it('orders, marks and ranks each query\'s nearest gallery items as the protocol counts them, with its AP', async () => {
    await selectBackend('cpu');
    const lists = rankedLists(QUERY, GALLERY, { top: 2, metric: 'euclidean' });
    const [q0, q1, q2] = lists.queries;
    // q0: same-camera g0 and junk g3 come first but are left out; then g2 (wrong, rank 1), g1 (match, rank 2)
    assert.deepEqual(q0!.entries.map((e) => [e.gallery, e.mark, e.rank]), [[0, 'same-camera', null], [3, 'junk', null], [2, 'wrong', 1], [1, 'match', 2]]);
    assert.ok(Math.abs(q0!.entries[2]!.distance - 0.09) < 1e-5, `squared distance ${q0!.entries[2]!.distance}`);
    // matches at valid positions 2 and 4 (g2, g1, g4, g5): AP = (1/2 + 2/4) / 2
    assert.ok(Math.abs(q0!.ap! - 0.5) < 1e-12, `AP ${q0!.ap}`);
    // q1 (id 2, camera 2): g2 is its match from camera 1 and nearest; junk g3 lies beyond the 2nd counted item
    assert.deepEqual(q1!.entries.map((e) => [e.gallery, e.mark, e.rank]), [[2, 'match', 1], [1, 'wrong', 2]]);
    assert.equal(q1!.ap, 1);
    // q2 has no true match: skipped, its list still shown
    assert.equal(q2!.ap, null);
    assert.equal(q2!.entries.filter((e) => e.rank !== null).length, 2);
    assert.equal(lists.report.skippedQueries, 1);
    const evaluation = evaluateFeatures(QUERY, GALLERY, { metric: 'euclidean' });
    assert.equal(lists.report.mAP, evaluation.mAP);
    assert.ok(Math.abs(lists.report.mAP - 0.75) < 1e-12);
    const trapezoid = rankedLists(QUERY, GALLERY, { top: 2, metric: 'euclidean', ap: 'trapezoid' });
    assert.equal(trapezoid.report.mAP, evaluateFeatures(QUERY, GALLERY, { metric: 'euclidean', ap: 'trapezoid' }).mAP);
    // without the camera filter g0 is a match at rank 1
    const plain = rankedLists(QUERY, GALLERY, { top: 2, metric: 'euclidean', removeSameCamera: false });
    assert.deepEqual(plain.queries[0]!.entries.slice(0, 2).map((e) => [e.gallery, e.mark, e.rank]), [[0, 'match', 1], [3, 'junk', null]]);
    assert.throws(() => rankedLists(QUERY, GALLERY, { top: 0 }), (e: unknown) => e instanceof PulError && e.code === 'option.outOfRange');
  });
});

describe('cluster sample', () => {
  it('counts noise apart, measures purity and marks the selected members', () => {
    const assignment = Int32Array.of(0, 0, 0, 1, 1, -1, -1, 2, 0);
    const pids = Int32Array.of(5, 5, 6, 7, 7, 8, 9, 4, 5);
    const view = sampleClusters(assignment, { pids, selected: new Set([0, 1, 3]), clusters: 10, perCluster: 10 });
    assert.equal(view.k, 3);
    assert.equal(view.rows, 9);
    assert.deepEqual(view.noise, { count: 2, members: [5, 6] });
    assert.deepEqual(view.cards.map((c) => [c.cluster, c.size, c.purity]), [[0, 4, 0.75], [1, 2, 1], [2, 1, 1]]);
    assert.deepEqual(view.cards[0]!.members, [{ row: 0, selected: true }, { row: 1, selected: true }, { row: 2, selected: false }, { row: 8, selected: false }]);
    assert.equal(sampleClusters(assignment, { clusters: 2, perCluster: 1 }).cards.length, 2);
    assert.equal(sampleClusters(assignment).cards[0]!.purity, null);
  });
});

describe('report page', () => {
  it('holds the sections, one chart point per round and per epoch, the marks, and nothing from the network', async () => {
    await selectBackend('cpu');
    const thumbs = new ThumbnailSet();
    const ranked = rankedSection(QUERY, GALLERY, thumbs, { top: 2, metric: 'euclidean' }, 'hand-made');
    assert.equal(thumbs.paths.length, 3 + 5, 'every query and the gallery images shown (g4 and g5 never are)');
    const pts = (ys: number[], x0 = 1) => ys.map((y, i) => ({ x: x0 + i, y }));
    const html = renderReportHtml({
      title: 'a <run>',
      generatedAt: '2026-01-01T00:00:00Z',
      series: {
        rounds: 3,
        mAP: { name: 'mAP', points: pts([0.2, 0.3, 0.35, 0.4], 0) },
        rank1: { name: 'rank-1', points: pts([0.3, 0.4, 0.5, 0.5], 0) },
        selected: { name: 'selected', points: pts([100, 150, 180]) },
        precision: { name: 'selection precision', points: pts([0.6, 0.7, 0.75]) },
        lambda: { name: 'λ', points: pts([0.85, 0.85, 0.85]) },
        clusters: { name: 'clusters', points: pts([10, 9, 9]) },
        noise: { name: 'noise', points: pts([4, 3, 3]) },
        loss: { name: 'training loss', points: [1, 2, 3, 4, 5, 6].map((x) => ({ x, y: 4 - x / 2, round: Math.ceil(x / 2), epoch: 2 - (x % 2) })) },
        seconds: [{ round: 0, stage: 'source', seconds: 3 }, { round: 1, stage: 'train', seconds: 2 }, { round: 1, stage: 'evaluate', seconds: 1 }],
      },
      ranked,
      clusters: { caption: 'c', view: sampleClusters(Int32Array.of(0, -1), {}), images: { 0: ranked.query[0]!, 1: ranked.query[1]! } },
      thumbnails: thumbs.paths.map(() => 'data:image/png;base64,AA=='),
    });
    const count = (re: RegExp) => (html.match(re) ?? []).length;
    assert.equal(count(/<figure class="chart" data-chart="mAP">.*?<\/figure>/gs) && count(/class="pt" data-series="mAP"/g), 4, 'baseline + 3 rounds');
    assert.equal(count(/class="pt" data-series="selected"/g), 3);
    assert.equal(count(/class="pt" data-series="noise"/g), 3);
    assert.equal(count(/class="pt" data-series="training loss"/g), 6);
    assert.equal(count(/class="seg"/g), 3);
    assert.match(html, /<h1>a &#60;run&#62;<\/h1>/);
    assert.match(html, /noise \(no cluster, −1\)/);
    // the ranked lists travel as JSON: q0's list is [query, AP, [[gallery, distance, mark, rank]…]], marks 3 = same camera, 2 = junk, 1 = wrong, 0 = match
    const data = JSON.parse(/<script type="application\/json" id="pul-data">(.*?)<\/script>/s.exec(html)![1]!) as { ranked: { lists: [number, number | null, number[][]][] } };
    assert.deepEqual(data.ranked.lists.map((l) => [l[0], l[1], l[2].map((e) => [e[0], e[2], e[3]])]), [
      [0, 0.5, [[0, 3, 0], [3, 2, 0], [2, 1, 1], [1, 0, 2]]],
      [1, 1, [[2, 0, 1], [1, 1, 2]]],
      [2, null, [[1, 1, 1], [4, 1, 2]]],
    ]);
    assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//, 'no network reference');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  });
});
