/**
 * Progress of long work, as events. Library code reports; the CLI decides how to show it
 * (a bar on a TTY, plain lines otherwise, nothing under --json).
 */

/** One progress update of a task: done of total units. */
export interface ProgressEvent {
  /** What is running, e.g. "extract", "kmeans", "train epoch 3/20". */
  readonly task: string;
  readonly done: number;
  readonly total: number;
  /** Extra figures to show, e.g. { loss: 0.41, acc: 0.87, 'img/s': 512 }. */
  readonly values?: Readonly<Record<string, number>>;
}

/** Where long stages report progress and log lines (streamProgress, silentProgress or your own). */
export interface ProgressSink {
  update(event: ProgressEvent): void;
  /** A line of text that is not a progress update (e.g. a stage summary). */
  log(message: string): void;
}

/** A ProgressSink that shows nothing (library use, --json). */
export const silentProgress: ProgressSink = {
  update() {},
  log() {},
};

/** Progress on a stream: a redrawn bar when it is a TTY, one line per ~10 % otherwise. */
export function streamProgress(stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  const isTty = stream.isTTY;
  const started = new Map<string, number>();
  const lastDecile = new Map<string, number>();
  return {
    update(event) {
      const now = Date.now();
      if (!started.has(event.task)) started.set(event.task, now);
      const elapsed = (now - (started.get(event.task) ?? now)) / 1000;
      const fraction = event.total > 0 ? event.done / event.total : 0;
      const eta = fraction > 0 ? (elapsed / fraction) * (1 - fraction) : Number.NaN;
      const values = Object.entries(event.values ?? {})
        .map(([k, v]) => `${k} ${formatNumber(v)}`)
        .join('  ');
      const text = `${event.task} ${event.done}/${event.total} ${values}${Number.isFinite(eta) ? `  ETA ${formatSeconds(eta)}` : ''}`;
      if (isTty) {
        const width = 24;
        const filled = Math.round(fraction * width);
        stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
        if (event.done >= event.total) stream.write('\n');
      } else {
        const decile = Math.floor(fraction * 10);
        if (decile !== lastDecile.get(event.task) || event.done >= event.total) {
          lastDecile.set(event.task, decile);
          stream.write(`${text}\n`);
        }
      }
      if (event.done >= event.total) {
        started.delete(event.task);
        lastDecile.delete(event.task);
      }
    },
    log(message) {
      stream.write(`${message}\n`);
    },
  };
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
