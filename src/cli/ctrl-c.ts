import type { ProgressSink } from '../index.js';

/** Runs `work` with Ctrl-C wired to its AbortSignal: the first stops at the next batch boundary, a second quits at once (130). */
export async function withCtrlC<T>(progress: ProgressSink, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    progress.log('\nstopping at the next batch boundary (Ctrl-C again to quit at once)…');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await work(controller.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
