/**
 * Worker thread of the decode pool: decodes uploads (decode-image.ts) off the server's event loop,
 * so one slow or large image does not hold up other requests.
 */
import { parentPort } from 'node:worker_threads';
import type { ImageSpec } from '../datasets/images.js';
import { UploadError, decodeUpload } from './decode-image.js';

/** A job: the bytes of one upload. */
export interface DecodeJob {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly spec: ImageSpec;
  readonly maxPixels: number;
}

/** A job's result: pixels, or the rejection. */
export type DecodeResult =
  | { readonly id: number; readonly pixels: Float32Array }
  | { readonly id: number; readonly error: { readonly status: number; readonly code: UploadError['code']; readonly message: string } };

parentPort?.on('message', (job: DecodeJob) => {
  decodeUpload(job.bytes, job.spec, job.maxPixels).then(
    (pixels) => parentPort!.postMessage({ id: job.id, pixels } satisfies DecodeResult, [pixels.buffer as ArrayBuffer]),
    (err: unknown) => {
      const error = err instanceof UploadError ? { status: err.status, code: err.code, message: err.message } : { status: 422, code: 'image.corrupt' as const, message: (err as Error).message };
      parentPort!.postMessage({ id: job.id, error } satisfies DecodeResult);
    },
  );
});
