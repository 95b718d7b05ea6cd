/**
 * One self-contained HTML page from a report's data: inline CSS, inline SVG charts, thumbnails as data
 * URIs in one JSON block, and a small script that draws the ranked lists a page at a time (sorted by
 * AP, filtered by file name), so a page with thousands of queries opens at once. No network, no CDN.
 */
import type { RunSeries } from './run-series.js';
import type { RankedMark, RankedQuery } from './ranked-lists.js';
import type { ClusterView } from './cluster-sample.js';
import type { EmbeddingMap } from './embedding-map.js';
import { escapeHtml, formatValue, lineChart, stackedBars } from './svg-charts.js';

/** An image on the page: its file name, thumbnail id, identity and camera. */
export interface ReportImage {
  readonly name: string;
  readonly thumb: number;
  readonly pid: number | null;
  readonly camid: number;
}

/** The ranked-list part: every query's list, the images, and the figures they add up to. */
export interface RankedSection {
  readonly caption: string;
  readonly top: number;
  readonly mAP: number;
  readonly rank1: number;
  readonly validQueries: number;
  readonly skippedQueries: number;
  readonly query: readonly ReportImage[];
  /** Gallery images by gallery row (only the rows some list shows need an entry). */
  readonly gallery: Readonly<Record<number, ReportImage>>;
  readonly lists: readonly RankedQuery[];
}

/** What a report page shows; every part but the title and the thumbnails is optional. */
export interface ReportData {
  readonly title: string;
  readonly subtitle?: string;
  readonly generatedAt: string;
  readonly headline?: readonly { readonly label: string; readonly value: string }[];
  readonly series?: RunSeries;
  readonly ranked?: RankedSection;
  readonly clusters?: { readonly caption: string; readonly view: ClusterView; readonly images: Readonly<Record<number, ReportImage>> };
  /** The map and, per map point, its cluster (−1: noise) and identity when known. */
  readonly embedding?: { readonly caption: string; readonly map: EmbeddingMap; readonly cluster: Int32Array | null; readonly pid: Int32Array | null };
  readonly settings?: { readonly config: unknown; readonly environment: Readonly<Record<string, string>> };
  /** Data URIs, indexed by ReportImage.thumb. */
  readonly thumbnails: readonly string[];
}

const MARK_CODE = { match: 0, wrong: 1, junk: 2, 'same-camera': 3 } as const satisfies Record<RankedMark, number>;

/** A colour per id, far apart for neighbouring ids (golden angle); −1 (noise) grey. */
export const idColour = (id: number): string => (id < 0 ? '#9a9a9a' : `hsl(${Math.round((id * 137.508) % 360)} 70% 45%)`);

const img = (image: ReportImage, cls = '', title = image.name) => `<img class="${cls}" data-thumb="${image.thumb}" alt="${escapeHtml(image.name)}" title="${escapeHtml(title)}">`;

function curves(s: RunSeries): string {
  const loss = s.loss.points;
  return `<section id="curves"><h2>Per-round curves <small>${s.rounds} round(s)</small></h2><div class="charts">
${lineChart('mAP and rank-1 (round 0: the source model)', [s.mAP, s.rank1], { percent: true, id: 'mAP' })}
${lineChart('selected samples', [s.selected], { id: 'selected' })}
${lineChart('selection precision (share of selected samples whose pseudo-label cluster is their identity\'s majority)', [s.precision], { percent: true, id: 'precision' })}
${lineChart('λ (selection threshold)', [s.lambda], { id: 'lambda' })}
${lineChart('clusters', s.noise.points.length > 0 ? [s.clusters, s.noise] : [s.clusters], { id: 'clusters' })}
${lineChart('training loss per epoch', [{ name: s.loss.name, points: loss, labels: loss.map((p) => `${p.round === 0 ? 'source' : `round ${p.round}`} epoch ${p.epoch}: loss ${p.y.toFixed(4)}`) }], { xLabel: 'epoch (all trainings in order)', id: 'loss' })}
${stackedBars('seconds per stage', s.seconds)}
</div></section>`;
}

function rankedSkeleton(r: RankedSection): string {
  return `<section id="ranked"><h2>Ranked lists <small>top ${r.top} of ${r.validQueries + r.skippedQueries} queries · mAP ${formatValue(r.mAP, true)} · rank-1 ${formatValue(r.rank1, true)}</small></h2>
<p class="muted">${escapeHtml(r.caption)} Borders: <span class="key match">true match</span> <span class="key wrong">false match</span> <span class="key junk">junk / same camera (left out of the ranking, no rank number)</span>. Under each image: rank · distance.</p>
<div class="controls"><label>Sort <select id="rank-sort"><option value="ap-asc">AP, worst first</option><option value="ap-desc">AP, best first</option><option value="query">query order</option></select></label>
<label>Search <input id="rank-search" type="search" placeholder="query file name"></label>
<button id="rank-prev" type="button">◀ previous</button><span id="rank-page"></span><button id="rank-next" type="button">next ▶</button></div>
<div id="rank-rows"></div></section>`;
}

function clusterSection(c: NonNullable<ReportData['clusters']>): string {
  const v = c.view;
  const card = (title: string, extra: string, members: readonly { row: number; selected: boolean }[], cls = '') => `<div class="cluster ${cls}"><div class="cluster-head">${title}${extra}</div><div class="thumbs">${members.map((m) => img(c.images[m.row]!, m.selected ? 'selected' : '', `${c.images[m.row]!.name}${m.selected ? ' (selected)' : ''}`)).join('')}</div></div>`;
  const cards = v.cards.map((k) => card(`cluster ${k.cluster}`, ` · ${k.size} image(s)${k.purity === null ? '' : ` · purity ${formatValue(k.purity, true)}`} · selected: ${k.members.filter((m) => m.selected).length} of the ${k.members.length} shown`, k.members));
  const noise = v.noise.count > 0 ? card('noise (no cluster, −1)', ` · ${v.noise.count} image(s)`, v.noise.members.map((row) => ({ row, selected: false })), 'noise') : '';
  return `<section id="clusters"><h2>Clusters <small>${v.k} clusters of ${v.rows} images · ${v.selected} selected${v.noise.count > 0 ? ` · ${v.noise.count} noise` : ''}</small></h2>
<p class="muted">${escapeHtml(c.caption)} <span class="key selected-key">outlined</span>: a reliable (selected) sample, trained on with its cluster as pseudo-label.</p>
<div class="clusters">${noise}${cards.join('')}</div></section>`;
}

function embeddingSection(e: NonNullable<ReportData['embedding']>): string {
  const { map } = e;
  const size = 420;
  const pad = 10;
  const range = (a: Float64Array) => [Math.min(...a), Math.max(...a)] as const;
  const [x0, x1] = range(map.x);
  const [y0, y1] = range(map.y);
  // one scale for both axes (distances stay true), the narrower axis centred
  const span = Math.max(x1 - x0, y1 - y0, 1e-9);
  const scale = (size - 2 * pad) / span;
  const ox = (size - (x1 - x0) * scale) / 2;
  const oy = (size - (y1 - y0) * scale) / 2;
  const dots = Array.from(map.rows, (row, i) => {
    const cx = ox + (map.x[i]! - x0) * scale;
    const cy = size - oy - (map.y[i]! - y0) * scale;
    const cluster = e.cluster?.[i];
    const pid = e.pid?.[i];
    const first = cluster ?? pid ?? 0;
    return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="2.6" fill="${idColour(first)}"${cluster === undefined ? '' : ` data-k="${idColour(cluster)}"`}${pid === undefined ? '' : ` data-p="${idColour(pid)}"`}><title>row ${row}${cluster === undefined ? '' : ` · cluster ${cluster}`}${pid === undefined ? '' : ` · id ${pid}`}</title></circle>`;
  }).join('');
  const toggle = e.cluster !== null && e.pid !== null
    ? `<div class="controls"><label><input type="radio" name="colour" value="k" checked> colour by cluster</label> <label><input type="radio" name="colour" value="p"> by identity</label></div>`
    : `<p class="muted">coloured by ${e.cluster !== null ? 'cluster' : 'identity'}</p>`;
  return `<section id="embedding"><h2>Embedding map <small>PCA, ${map.rows.length} points · ${formatValue(map.explained[0], true)} + ${formatValue(map.explained[1], true)} of the variance</small></h2>
<p class="muted">${escapeHtml(e.caption)}</p>${toggle}<svg id="map" viewBox="0 0 ${size} ${size}" width="${size}" height="${size}" role="img" aria-label="embedding map">${dots}</svg></section>`;
}

function settingsSection(s: NonNullable<ReportData['settings']>): string {
  const env = Object.entries(s.environment).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<section id="settings"><h2>Configuration and environment</h2><table class="env">${env}</table>
<details><summary>resolved configuration (click to open)</summary><pre>${escapeHtml(JSON.stringify(s.config, null, 2))}</pre></details></section>`;
}

/** The ranked lists in the compact form the page's script reads: [query row, AP | null, [[gallery, distance, mark, rank | 0]…]]. */
function compactLists(r: RankedSection) {
  return {
    top: r.top,
    query: r.query.map((q) => [q.name, q.thumb, q.pid, q.camid]),
    gallery: Object.fromEntries(Object.entries(r.gallery).map(([g, im]) => [g, [im.name, im.thumb, im.pid, im.camid]])),
    lists: r.lists.map((q) => [q.query, q.ap === null ? null : Number(q.ap.toFixed(6)), q.entries.map((e) => [e.gallery, Number(e.distance.toFixed(4)), MARK_CODE[e.mark], e.rank ?? 0])]),
  };
}

/** The page's script: thumbnails from the JSON block, the ranked lists a page at a time, the map's colour toggle. */
const SCRIPT = `
const D = JSON.parse(document.getElementById('pul-data').textContent);
const T = D.thumbnails;
const fill = (root) => root.querySelectorAll('img[data-thumb]:not([src])').forEach((im) => { im.src = T[Number(im.dataset.thumb)]; });
fill(document);
const R = D.ranked;
if (R) {
  const PAGE = 20;
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const MARKS = ['match', 'wrong', 'junk', 'same-camera'];
  const rows = document.getElementById('rank-rows');
  const sortBox = document.getElementById('rank-sort');
  const search = document.getElementById('rank-search');
  const pageLabel = document.getElementById('rank-page');
  let order = [];
  let page = 0;
  const apOf = (l) => (l[1] === null ? null : l[1]);
  function arrange() {
    const needle = search.value.trim().toLowerCase();
    const kept = R.lists.filter((l) => needle === '' || R.query[l[0]][0].toLowerCase().includes(needle));
    const how = sortBox.value;
    if (how !== 'query') {
      const sign = how === 'ap-asc' ? 1 : -1;
      kept.sort((a, b) => (apOf(a) === null) - (apOf(b) === null) || sign * (apOf(a) - apOf(b)) || a[0] - b[0]);
    }
    order = kept;
    page = 0;
    draw();
  }
  function draw() {
    const pages = Math.max(1, Math.ceil(order.length / PAGE));
    page = Math.min(page, pages - 1);
    pageLabel.textContent = ' page ' + (page + 1) + ' of ' + pages + ' (' + order.length + ' queries) ';
    rows.innerHTML = order.slice(page * PAGE, (page + 1) * PAGE).map((l) => {
      const q = R.query[l[0]];
      const cells = l[2].map((e) => {
        const g = R.gallery[e[0]];
        const mark = MARKS[e[2]];
        return '<figure class="hit ' + mark + '" data-mark="' + mark + '"><img data-thumb="' + g[1] + '" alt="' + esc(g[0]) + '" title="' + esc(g[0] + ' · id ' + g[2] + ' · cam ' + g[3] + ' · ' + mark) + '"><figcaption>' + (e[3] ? e[3] : '–') + ' · ' + e[1].toFixed(3) + '</figcaption></figure>';
      }).join('');
      const ap = l[1] === null ? 'skipped (no true match)' : 'AP ' + (100 * l[1]).toFixed(1) + ' %';
      return '<div class="rank-row" data-query="' + esc(q[0]) + '" data-ap="' + (l[1] === null ? '' : l[1]) + '"><figure class="query"><img data-thumb="' + q[1] + '" alt="' + esc(q[0]) + '" title="' + esc(q[0] + ' · id ' + q[2] + ' · cam ' + q[3]) + '"><figcaption><b>' + esc(q[0]) + '</b><br>' + ap + '</figcaption></figure><div class="hits">' + cells + '</div></div>';
    }).join('');
    fill(rows);
  }
  sortBox.addEventListener('change', arrange);
  search.addEventListener('input', arrange);
  document.getElementById('rank-prev').addEventListener('click', () => { page = Math.max(0, page - 1); draw(); });
  document.getElementById('rank-next').addEventListener('click', () => { page += 1; draw(); });
  arrange();
}
document.querySelectorAll('input[name=colour]').forEach((radio) => radio.addEventListener('change', () => {
  document.querySelectorAll('#map circle').forEach((c) => { c.setAttribute('fill', c.dataset[radio.value]); });
}));
`;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1280px;padding:12px 20px;color:#222;background:#fff}
h1{font-size:22px;margin:4px 0}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:3px;margin-top:26px}h2 small{font-weight:normal;color:#666;font-size:13px}
.muted{color:#666}.headline{display:flex;flex-wrap:wrap;gap:8px 22px;margin:8px 0}.headline div{background:#f4f6f8;padding:5px 10px;border-radius:4px}.headline b{display:block;font-size:17px}
.charts{display:flex;flex-wrap:wrap;gap:10px}.chart{margin:0;border:1px solid #e3e3e3;border-radius:4px;padding:4px}.chart figcaption{font-size:12px;color:#444;max-width:360px}
.grid{stroke:#eee}.tick{font-size:10px;fill:#666}.axis{font-size:11px;fill:#444}.legend{font-size:11px}
.controls{display:flex;gap:12px;align-items:center;margin:8px 0;flex-wrap:wrap}
.rank-row{display:flex;gap:10px;align-items:flex-start;border-bottom:1px solid #eee;padding:6px 0}.rank-row figure{margin:0;text-align:center}
.query{width:150px;font-size:11px;word-break:break-all}.query img{height:96px;border:3px solid #333}
.hits{display:flex;gap:4px;flex-wrap:wrap}.hit img{height:64px;border:3px solid}.hit figcaption{font-size:10px;color:#555}
.match img{border-color:#1a9c3a}.wrong img{border-color:#d62728}.junk img,.same-camera img{border-color:#aaa;border-style:dashed;opacity:.75}
.key{padding:0 4px;border:2px solid}.key.match{border-color:#1a9c3a}.key.wrong{border-color:#d62728}.key.junk{border-color:#aaa;border-style:dashed}
.clusters{display:flex;flex-wrap:wrap;gap:10px}.cluster{border:1px solid #ddd;border-radius:4px;padding:5px;max-width:300px}.cluster.noise{background:#f3f3f3}
.cluster-head{font-size:12px;margin-bottom:3px}.thumbs img{height:64px;margin:1px;border:2px solid transparent}.thumbs img.selected{border-color:#1f77b4}.key.selected-key{border-color:#1f77b4}
#map{border:1px solid #ddd;background:#fcfcfc}
table.env th{text-align:left;padding-right:14px;font-weight:600}pre{background:#f6f6f6;padding:8px;max-height:420px;overflow:auto;font-size:12px}
`;

/**
 * The page: a header with the headline figures, then the sections the data holds, then one JSON block
 * (thumbnails and ranked lists) and the script.
 * @example
 * await writeFile('report.html', renderReportHtml({ title: 'run demo', generatedAt: new Date().toISOString(), thumbnails: [] }));
 */
export function renderReportHtml(data: ReportData): string {
  const headline = (data.headline ?? []).map((h) => `<div>${escapeHtml(h.label)}<b>${escapeHtml(h.value)}</b></div>`).join('');
  const sections = [
    data.series ? curves(data.series) : '',
    data.ranked ? rankedSkeleton(data.ranked) : '',
    data.clusters ? clusterSection(data.clusters) : '',
    data.embedding ? embeddingSection(data.embedding) : '',
    data.settings ? settingsSection(data.settings) : '',
  ].filter((s) => s !== '');
  // "<" escaped so that no string in the data can close the script element
  const json = JSON.stringify({ thumbnails: data.thumbnails, ranked: data.ranked ? compactLists(data.ranked) : null }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${escapeHtml(data.title)}</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(data.title)}</h1><div class="muted">${escapeHtml(data.subtitle ?? '')}${data.subtitle ? ' · ' : ''}generated ${escapeHtml(data.generatedAt)} by pul</div><div class="headline">${headline}</div></header>
${sections.join('\n')}
<script type="application/json" id="pul-data">${json}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
