/**
 * Untrusted image bytes → model input: only JPEG, PNG or WebP (formats sharp decodes without reading
 * anything else — an SVG could name other files), at most `maxPixels` pixels by its header before any
 * pixel is decoded (a 100 000 × 100 000 PNG is a few kilobytes), then resized and normalised.
 * Problems are UploadErrors with the HTTP status that names them.
 */
import type Sharp from 'sharp';
import { lazyRequire } from '../core/lazy-require.js';
import { decodeImageBytes, normalizeInto, type ImageSpec } from '../datasets/images.js';

const sharp = lazyRequire<typeof Sharp>('sharp');

/** Formats a client may send. */
export const UPLOAD_FORMATS = ['jpeg', 'png', 'webp'] as const;

/** A rejected upload: the status and a message naming the problem. */
export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(
    readonly status: number,
    readonly code: 'image.notAnImage' | 'image.unsupportedFormat' | 'image.tooManyPixels' | 'image.corrupt' | 'decoder.failed',
    message: string,
  ) {
    super(message);
  }
}

/** Checks the header, decodes and normalises: H×W×C floats for the model. */
export async function decodeUpload(bytes: Uint8Array, spec: ImageSpec, maxPixels: number): Promise<Float32Array> {
  let meta: Sharp.Metadata;
  try {
    meta = await sharp()(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new UploadError(415, 'image.notAnImage', `the request body is not an image (${bytes.length} bytes); send JPEG, PNG or WebP bytes`);
  }
  if (!(UPLOAD_FORMATS as readonly string[]).includes(meta.format ?? '')) {
    throw new UploadError(415, 'image.unsupportedFormat', `${meta.format ?? 'this'} images are not accepted; send ${UPLOAD_FORMATS.join(', ')}`);
  }
  const { width = 0, height = 0 } = meta;
  if (width * height > maxPixels || width < 1 || height < 1) {
    throw new UploadError(413, 'image.tooManyPixels', `a ${width} × ${height} image has ${width * height} pixels; the limit is ${maxPixels}`);
  }
  let decoded: Uint8Array;
  try {
    decoded = await decodeImageBytes(bytes, 'the uploaded image', spec);
  } catch (err) {
    throw new UploadError(422, 'image.corrupt', (err as Error).message);
  }
  const out = new Float32Array(decoded.length);
  normalizeInto(decoded, spec, out, 0);
  return out;
}
