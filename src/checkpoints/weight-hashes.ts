/**
 * SHA-256 of a checkpoint's weight files, recorded in meta.json at save time and checked on every
 * load: a file overwritten after saving (same size, other bytes) is caught before its weights are used.
 * Checkpoints saved before hashes were recorded have none and load as before.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { META_JSON, type Checkpoint } from './checkpoint.js';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `{ name: sha256 }` of the named files of `dir`. */
export async function hashFiles(dir: string, names: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) out[name] = sha256(await readFile(path.join(dir, name)));
  return out;
}

/**
 * Throws checkpoint.corrupt when `name` (whose bytes are given, or read here) does not match the hash
 * meta.json recorded for it. Returns false when no hash was recorded (an older checkpoint), true when verified.
 */
export async function verifyWeightFile(checkpoint: Checkpoint, name: string, bytes?: Uint8Array): Promise<boolean> {
  const expected = checkpoint.manifest.sha256?.[name];
  if (expected === undefined) return false;
  const file = path.join(checkpoint.dir, name);
  let data = bytes;
  if (data === undefined) {
    try {
      data = await readFile(file);
    } catch (err) {
      throw new PulError('checkpoint.corrupt', `${file}: cannot read a weight file recorded in ${META_JSON}: ${(err as Error).message}`, { file }, { cause: err });
    }
  }
  const actual = sha256(data);
  if (actual !== expected) {
    throw new PulError('checkpoint.corrupt', `${file}: SHA-256 ${actual.slice(0, 12)}… differs from ${expected.slice(0, 12)}… recorded in ${META_JSON} at save time (the file was changed or damaged after saving)`, { file });
  }
  return true;
}

/**
 * One hash naming a checkpoint's weights (SHA-256 of its per-file hashes, sorted by file name), e.g. so
 * a gallery index can refuse queries embedded by another model; null when meta.json recorded no hashes.
 * @example
 * weightsFingerprint(checkpoint); // '3f9a…' (64 hex digits)
 */
export function weightsFingerprint(checkpoint: Checkpoint): string | null {
  const hashes = checkpoint.manifest.sha256;
  if (hashes === undefined || Object.keys(hashes).length === 0) return null;
  const lines = Object.keys(hashes).sort().map((name) => `${name} ${hashes[name]}\n`);
  return sha256(Buffer.from(lines.join(''), 'utf8'));
}
