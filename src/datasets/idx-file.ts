/**
 * The IDX file format of the MNIST family (gzipped or raw): a 4-byte magic (0, 0, type 0x08 =
 * unsigned byte, number of dimensions), the dimensions as big-endian 32-bit integers, then the data.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { PulError } from '../core/errors.js';

/** A decoded IDX array of unsigned bytes: `dims` (e.g. [60000, 28, 28]) and the data, C order. */
export interface IdxArray {
  readonly file: string;
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** Parses IDX bytes (gunzipping when they start with the gzip magic); `file` is only for messages. */
export function decodeIdx(bytes: Uint8Array, file: string): IdxArray {
  let raw = bytes;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (err) {
      throw new PulError('idx.malformed', `${file} is not a valid gzip file (${(err as Error).message})`, { file }, { cause: err });
    }
  }
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) {
    const magic = Array.from(raw.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new PulError('idx.malformed', `${file} has magic ${magic || '(empty)'}; an IDX file starts with 00 00 08 <ndims>`, { file });
  }
  if (raw[2] !== 0x08) {
    throw new PulError('idx.malformed', `${file} has IDX data type 0x${(raw[2] ?? 0).toString(16)}; only 0x08 (unsigned byte) is supported`, { file });
  }
  const ndims = raw[3] ?? 0;
  if (ndims < 1 || raw.length < 4 + 4 * ndims) {
    throw new PulError('idx.malformed', `${file} declares ${ndims} dimensions but its header is truncated`, { file });
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const offset = 4 + 4 * ndims;
  if (raw.length - offset !== expected) {
    throw new PulError(
      'idx.malformed',
      `${file} has ${raw.length - offset} data bytes but its header [${dims.join('×')}] needs ${expected}`,
      { file },
    );
  }
  return { file, dims, data: raw.subarray(offset) };
}

/** Reads and decodes an IDX file. */
export async function readIdx(file: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new PulError('dataset.unreadable', `cannot read ${file}: ${(err as Error).message}`, { file }, { cause: err });
  }
  return decodeIdx(bytes, file);
}

/** Encodes unsigned bytes as IDX (raw, not gzipped): for tests and fixtures. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
