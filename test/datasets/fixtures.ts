/** Tiny dataset fixtures written by the tests themselves (no shared data). */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { encodeIdx } from '../../src/datasets/idx-file.js';

/** Writes a solid-colour image (format from the extension) of w×h. */
export async function writeSolidImage(file: string, rgb: readonly [number, number, number], w = 8, h = 16): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const img = sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  const ext = path.extname(file).toLowerCase();
  const buf = ext === '.png' ? await img.png().toBuffer() : ext === '.webp' ? await img.webp({ lossless: true }).toBuffer() : await img.jpeg({ quality: 95 }).toBuffer();
  await writeFile(file, buf);
}

/** Writes images with the given names (all the same colour) into dir. */
export async function writeImages(dir: string, names: readonly string[]): Promise<void> {
  for (const n of names) await writeSolidImage(path.join(dir, n), [100, 150, 200]);
}

/**
 * Writes a tiny MNIST-style IDX pair `<set>-images-idx3-ubyte[.gz]` / `<set>-labels-idx1-ubyte[.gz]`:
 * image i is filled with the value i (so tests can tell images apart), label = labels[i].
 */
export async function writeIdxPair(dir: string, set: string, labels: readonly number[], { gz = true, size = 4 } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const n = labels.length;
  const pixels = new Uint8Array(n * size * size);
  for (let i = 0; i < n; i++) pixels.fill(i % 256, i * size * size, (i + 1) * size * size);
  const enc = (b: Uint8Array): Uint8Array => (gz ? gzipSync(b) : b);
  const suffix = gz ? '.gz' : '';
  await writeFile(path.join(dir, `${set}-images-idx3-ubyte${suffix}`), enc(encodeIdx([n, size, size], pixels)));
  await writeFile(path.join(dir, `${set}-labels-idx1-ubyte${suffix}`), enc(encodeIdx([n], Uint8Array.from(labels))));
}
