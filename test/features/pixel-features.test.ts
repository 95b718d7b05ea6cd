import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ImageReader, loadDataset, pixelFeatures } from '../../src/index.js';
import { encodeIdx } from '../../src/datasets/idx-file.js';
import { withTempDir } from '../helpers/temp-dir.js';

test('pixelFeatures: one row of normalised pixels per sample, in sample order (300 images: more than one batch)', () =>
  withTempDir(async (dir) => {
    const n = 300;
    const px = Uint8Array.from({ length: n * 64 }, (_, k) => (Math.floor(k / 64) * 7 + (k % 64)) % 256);
    await writeFile(path.join(dir, 'train-images-idx3-ubyte'), encodeIdx([n, 8, 8], px));
    await writeFile(path.join(dir, 'train-labels-idx1-ubyte'), encodeIdx([n], new Uint8Array(n)));
    const reader = new ImageReader();
    const samples = [...(await loadDataset(dir, { format: 'idx', reader })).samples].reverse();
    const unit = await pixelFeatures(samples, { height: 8, width: 8, channels: 1, normalize: 'unit' }, { reader });
    assert.deepEqual([unit.rows, unit.dim], [n, 64]);
    // row 0 is the last image (299): its pixel j is ((299·7 + j) mod 256) / 255
    for (const j of [0, 5, 63]) assert.ok(Math.abs(unit.data[j]! - ((299 * 7 + j) % 256) / 255) < 1e-7);
    assert.ok(Math.abs(unit.data[(n - 1) * 64 + 10]! - 10 / 255) < 1e-7); // the last row is image 0
    const standardised = await pixelFeatures(samples, { height: 8, width: 8, channels: 1, normalize: { mean: [0.5], std: [0.25] } }, { reader });
    assert.ok(Math.abs(standardised.data[5]! - (((299 * 7 + 5) % 256) / 255 - 0.5) / 0.25) < 1e-6);
  }));
