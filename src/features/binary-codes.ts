/**
 * Binary hash codes: sign(embedding) packed into bits, and their file `codes.bin` (written by
 * `pul extract --binary` beside features.npy and index.csv, same rows in the same order).
 *
 * codes.bin, version 1, all integers little-endian:
 *   bytes 0–7    magic "PULCODES" (ASCII)
 *   bytes 8–11   version, uint32 = 1
 *   bytes 12–15  rows, uint32
 *   bytes 16–19  bits B per code, uint32 (a multiple of 8, 8 ≤ B ≤ 1024)
 *   then rows × B/8 bytes, row after row; bit j of a row is bit (j mod 8) of its byte ⌊j/8⌋, least
 *   significant bit first (numpy: `np.packbits(x > 0, axis=1, bitorder='little')`); the bit is 1 when
 *   the embedding's value j is > 0.
 * (The bytes are read in place as 64-bit words: pul assumes a little-endian host, as Node's platforms are.)
 * In memory the codes are 64-bit words (rows × ⌈B/64⌉, zero-padded), so that Hamming distances are
 * XOR + popcount of whole words; bit j of a row is bit j mod 64 of word ⌊j/64⌋.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { hashBitsProblem } from '../model/hash-bits.js';
import type { FeatureMatrix } from './feature-matrix.js';
import { assertFolder, readFolderIndex, type IndexRow } from './features-npy.js';

/** The codes file of a feature folder. */
export const CODES_FILE = 'codes.bin';
/** The codes.bin format version this pul writes and reads. */
export const CODES_FORMAT_VERSION = 1;
const MAGIC = Buffer.from('PULCODES', 'ascii');
const HEADER_BYTES = 20;
/** rows binary codes of `bits` bits, packed into `words` 64-bit words per row (zero-padded). */
export interface PackedCodes {
  readonly rows: number;
  readonly bits: number;
  /** 64-bit words per row: ⌈bits / 64⌉. */
  readonly words: number;
  /** rows × words words, row-major. */
  readonly data: BigUint64Array;
}

/** Zeroed codes of that shape. */
export function emptyCodes(rows: number, bits: number): PackedCodes {
  const words = Math.ceil(bits / 64);
  return { rows, bits, words, data: new BigUint64Array(rows * words) };
}

/** The codes' bytes as LSB-first bytes, row after row (a view, not a copy): byte k of a row is bits 8k..8k+7. */
function bytesOf(codes: PackedCodes): Uint8Array {
  return new Uint8Array(codes.data.buffer, codes.data.byteOffset, codes.data.byteLength);
}

/**
 * The sign bits of `m` (bit j set when value j > 0): one code of m.dim bits per row.
 * @example
 * packSigns(featureMatrix(1, 8, Float32Array.of(1, -1, 0, 2, -3, 0.5, -0.5, 4))).data[0]; // 0b10101001n = 169n
 */
export function packSigns(m: FeatureMatrix): PackedCodes {
  const problem = hashBitsProblem(m.dim);
  if (problem !== null) throw new PulError('features.mismatch', `cannot pack ${m.dim}-dimensional features into binary codes: ${problem}`);
  const codes = emptyCodes(m.rows, m.dim);
  const bytes = bytesOf(codes);
  const rowBytes = codes.words * 8;
  for (let r = 0; r < m.rows; r++) {
    const at = r * m.dim;
    for (let j = 0; j < m.dim; j++) if (m.data[at + j]! > 0) bytes[r * rowBytes + (j >> 3)]! |= 1 << (j & 7);
  }
  return codes;
}

/** Bit j of row r (0 or 1). */
export function codeBit(codes: PackedCodes, r: number, j: number): number {
  return (bytesOf(codes)[r * codes.words * 8 + (j >> 3)]! >> (j & 7)) & 1;
}

/** The bytes of codes.bin holding `codes` (format above). */
export function encodeCodes(codes: PackedCodes): Buffer {
  const rowBytes = codes.bits / 8;
  const out = Buffer.alloc(HEADER_BYTES + codes.rows * rowBytes);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(CODES_FORMAT_VERSION, 8);
  out.writeUInt32LE(codes.rows, 12);
  out.writeUInt32LE(codes.bits, 16);
  const bytes = bytesOf(codes);
  for (let r = 0; r < codes.rows; r++) out.set(bytes.subarray(r * codes.words * 8, r * codes.words * 8 + rowBytes), HEADER_BYTES + r * rowBytes);
  return out;
}

/** The codes in a codes.bin's bytes; a bad magic, version, bit count or length is a features.malformed error naming `file`. */
export function decodeCodes(bytes: Uint8Array, file: string): PackedCodes {
  const bad = (why: string): never => {
    throw new PulError('features.malformed', `${file}: ${why} (not a pul ${CODES_FILE}, or damaged; write it again with pul extract --binary)`, { file });
  };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES) bad(`${buf.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (!buf.subarray(0, 8).equals(MAGIC)) bad('it does not start with "PULCODES"');
  const version = buf.readUInt32LE(8);
  if (version !== CODES_FORMAT_VERSION) bad(`format version ${version}; this pul reads version ${CODES_FORMAT_VERSION}`);
  const rows = buf.readUInt32LE(12);
  const bits = buf.readUInt32LE(16);
  const problem = hashBitsProblem(bits);
  if (problem !== null) bad(`header says ${problem}`);
  const rowBytes = bits / 8;
  const expected = HEADER_BYTES + rows * rowBytes;
  if (buf.length < expected) bad(`truncated: ${rows} rows × ${bits} bits need ${expected} bytes, the file has ${buf.length}`);
  if (buf.length > expected) bad(`${buf.length - expected} bytes after the ${rows} rows × ${bits} bits the header announces`);
  const codes = emptyCodes(rows, bits);
  const out = bytesOf(codes);
  for (let r = 0; r < rows; r++) out.set(buf.subarray(HEADER_BYTES + r * rowBytes, HEADER_BYTES + (r + 1) * rowBytes), r * codes.words * 8);
  return codes;
}

/** Reads a codes.bin; a missing or unreadable file is a features.malformed error naming it. */
export async function readCodes(file: string): Promise<PackedCodes> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new PulError('features.malformed', `cannot read ${file}: ${(err as Error).message} (binary codes are written by pul extract --binary)`, { file }, { cause: err });
  }
  return decodeCodes(bytes, file);
}

/** Writes codes.bin to `file` (inside a folder being written; the caller makes it atomic). */
export async function writeCodes(file: string, codes: PackedCodes): Promise<void> {
  await fs.writeFile(file, encodeCodes(codes));
}

/**
 * The codes.bin and index.csv of a feature folder (written by pul extract --binary), rows checked.
 * @example
 * const { codes, index } = await readCodeFolder('out/query');
 */
export async function readCodeFolder(dir: string): Promise<{ codes: PackedCodes; index: IndexRow[] }> {
  await assertFolder(dir, CODES_FILE);
  const file = path.join(dir, CODES_FILE);
  const codes = await readCodes(file);
  return { codes, index: await readFolderIndex(dir, codes.rows, file) };
}
