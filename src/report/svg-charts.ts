/**
 * Inline SVG charts for report pages (no script, no library): line charts of per-round figures and
 * stacked bars of the seconds per stage. Every point is a circle with a tooltip, so a test can count
 * them and a reader can hover them.
 */
import type { Point } from './run-series.js';

const W = 360;
const H = 200;
const PAD = { left: 48, right: 12, top: 26, bottom: 30 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/** Text safe inside HTML/SVG element content and attribute values. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Up to 4 significant digits, or a percentage. */
export function formatValue(v: number, percent = false): string {
  if (percent) return `${(100 * v).toFixed(1)} %`;
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

/** A curve to draw: its name and points. */
export interface ChartLine {
  readonly name: string;
  readonly points: readonly Point[];
  /** Tooltip of each point (default "name x: y"). */
  readonly labels?: readonly string[];
}

/** Round numbers of a [lo, hi] range for axis ticks (about 4). */
function ticks(lo: number, hi: number, whole: boolean): number[] {
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(whole ? 1 : 0, [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * A line chart of one or more curves with axes, ticks, a legend and one `<circle class="pt">` per point.
 * @example
 * lineChart('mAP', [{ name: 'mAP', points: [{ x: 0, y: 0.16 }, { x: 1, y: 0.27 }] }], { percent: true, xLabel: 'round' });
 */
export function lineChart(title: string, lines: readonly ChartLine[], options: { readonly percent?: boolean; readonly xLabel?: string; readonly id?: string } = {}): string {
  const all = lines.flatMap((l) => l.points);
  const id = options.id ?? title;
  if (all.length === 0) return `<figure class="chart" data-chart="${escapeHtml(id)}"><figcaption>${escapeHtml(title)}</figcaption><p class="muted">no figures recorded</p></figure>`;
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (options.percent) [y0, y1] = [Math.max(0, y0 - 0.05), Math.min(1, y1 + 0.05)];
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - (Math.abs(y0) || 1) * 0.1, y1 + (Math.abs(y1) || 1) * 0.1];
  const sx = (x: number) => PAD.left + (x1 === x0 ? (W - PAD.left - PAD.right) / 2 : ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right));
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [];
  for (const t of ticks(y0, y1, false)) {
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}"/><text class="tick" x="${PAD.left - 4}" y="${(sy(t) + 3).toFixed(1)}" text-anchor="end">${escapeHtml(formatValue(t, options.percent))}</text>`);
  }
  for (const t of ticks(x0, x1, true)) parts.push(`<text class="tick" x="${sx(t).toFixed(1)}" y="${H - PAD.bottom + 13}" text-anchor="middle">${t}</text>`);
  parts.push(`<text class="axis" x="${(PAD.left + W - PAD.right) / 2}" y="${H - 3}" text-anchor="middle">${escapeHtml(options.xLabel ?? 'round')}</text>`);
  lines.forEach((line, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const coords = line.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    if (coords.length > 1) parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.8" points="${coords.join(' ')}"/>`);
    line.points.forEach((p, j) => {
      const label = line.labels?.[j] ?? `${line.name} ${options.xLabel ?? 'round'} ${p.x}: ${formatValue(p.y, options.percent)}`;
      parts.push(`<circle class="pt" data-series="${escapeHtml(line.name)}" cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${colour}"><title>${escapeHtml(label)}</title></circle>`);
    });
    parts.push(`<text class="legend" x="${PAD.left + 4 + i * 110}" y="14" fill="${colour}">■ ${escapeHtml(line.name)}</text>`);
  });
  return `<figure class="chart" data-chart="${escapeHtml(id)}"><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg></figure>`;
}

/**
 * Stacked bars: one bar per round, one segment per stage, with a legend; one `<rect class="seg">` per stage record.
 * @example
 * stackedBars('seconds per stage', [{ round: 1, stage: 'train', seconds: 40 }]);
 */
export function stackedBars(title: string, records: readonly { readonly round: number; readonly stage: string; readonly seconds: number }[]): string {
  if (records.length === 0) return lineChart(title, []);
  const stages = [...new Set(records.map((r) => r.stage))];
  const rounds = [...new Set(records.map((r) => r.round))].sort((a, b) => a - b);
  const totals = rounds.map((round) => records.filter((r) => r.round === round).reduce((s, r) => s + r.seconds, 0));
  const top = Math.max(...totals, 1e-9);
  const band = (W - PAD.left - PAD.right) / rounds.length;
  const sy = (v: number) => ((H - PAD.top - PAD.bottom) * v) / top;
  const parts: string[] = [];
  for (const t of ticks(0, top, false)) {
    const y = H - PAD.bottom - sy(t);
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}"/><text class="tick" x="${PAD.left - 4}" y="${(y + 3).toFixed(1)}" text-anchor="end">${formatValue(t)}</text>`);
  }
  rounds.forEach((round, i) => {
    let base = H - PAD.bottom;
    const x = PAD.left + i * band + band * 0.15;
    for (const r of records.filter((rec) => rec.round === round)) {
      const h = sy(r.seconds);
      base -= h;
      const colour = COLOURS[stages.indexOf(r.stage) % COLOURS.length]!;
      parts.push(`<rect class="seg" x="${x.toFixed(1)}" y="${base.toFixed(1)}" width="${(band * 0.7).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${colour}"><title>${escapeHtml(`${round === 0 ? 'setup' : `round ${round}`} · ${r.stage}: ${r.seconds.toFixed(1)} s`)}</title></rect>`);
    }
    parts.push(`<text class="tick" x="${(x + band * 0.35).toFixed(1)}" y="${H - PAD.bottom + 13}" text-anchor="middle">${round === 0 ? 'setup' : round}</text>`);
  });
  parts.push(`<text class="axis" x="${(PAD.left + W - PAD.right) / 2}" y="${H - 3}" text-anchor="middle">round (seconds)</text>`);
  const legend = stages.map((s, i) => `<span style="color:${COLOURS[i % COLOURS.length]!}">■</span> ${escapeHtml(s)}`).join(' ');
  return `<figure class="chart" data-chart="seconds"><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg><div class="legend">${legend}</div></figure>`;
}
