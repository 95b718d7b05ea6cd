import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { IMAGENET_MEAN, IMAGENET_STD, ImageReader, PulError, Rng, type Sample } from '../../src/index.js';
import { resizeBilinearGrey } from '../../src/datasets/images.js';
import { iterateBatches, type Batch } from '../../src/datasets/batches.js';
import { assertClose } from '../helpers/assert-close.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { writeIdxPair, writeSolidImage } from './fixtures.js';

const sample = (p: string, pid = 1): Sample => ({ path: p, pid, camid: 0, split: 'train' });

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('image decoding', () => {
  it('decodes PNG, WebP and JPEG, resizes and normalises with ImageNet statistics', () => {
    return withTempDir(async (dir) => {
      const reader = new ImageReader();
      for (const ext of ['png', 'webp']) {
        const file = path.join(dir, `a.${ext}`);
        await writeSolidImage(file, [100, 150, 200], 10, 20);
        const px = await reader.read(file, { height: 4, width: 2, channels: 3 });
        assert.equal(px.length, 4 * 2 * 3);
        const expected = [0, 1, 2].map((k) => ([100, 150, 200][k]! / 255 - IMAGENET_MEAN[k]!) / IMAGENET_STD[k]!);
        assertClose(px, Array.from({ length: 8 }, () => expected).flat(), { atol: 1e-5, label: ext });
      }
      const jpg = path.join(dir, 'g.jpg');
      await writeSolidImage(jpg, [90, 90, 90]);
      const grey = await reader.read(jpg, { height: 3, width: 3, channels: 1 });
      assertClose(grey, new Array<number>(9).fill(90 / 255), { atol: 2 / 255, label: 'grey jpeg in [0,1]' });
      const custom = await reader.read(jpg, { height: 1, width: 1, channels: 3, normalize: { mean: [0.5], std: [0.25] } });
      assertClose(custom, new Array<number>(3).fill((90 / 255 - 0.5) / 0.25), { atol: 0.04 });
    });
  });

  it('reads IDX entries as grey images, replicated to RGB on request', () => {
    return withTempDir(async (dir) => {
      await writeIdxPair(dir, 'train', [3, 4, 5]);
      const reader = new ImageReader();
      const px = await reader.read(`${path.join(dir, 'train-images-idx3-ubyte.gz')}#2`, { height: 4, width: 4, channels: 1 });
      assertClose(px, new Array<number>(16).fill(2 / 255));
      const rgb = await reader.readBytes(`${path.join(dir, 'train-images-idx3-ubyte.gz')}#1`, { height: 2, width: 2, channels: 3 });
      assert.deepEqual([...rgb], new Array<number>(12).fill(1));
      await assert.rejects(reader.read(`${path.join(dir, 'train-images-idx3-ubyte.gz')}#3`, { height: 4, width: 4, channels: 1 }), /holds 3 images/);
    });
  });

  it('caches decoded bytes within its byte budget (none with cacheBytes 0)', () => {
    return withTempDir(async (dir) => {
      const file = path.join(dir, 'a.png');
      await writeSolidImage(file, [10, 20, 30]);
      const spec = { height: 2, width: 2, channels: 3 } as const;
      const cached = new ImageReader({ cacheBytes: 12 });
      const first = await cached.readBytes(file, spec);
      await writeSolidImage(file, [200, 200, 200]);
      assert.equal(await cached.readBytes(file, spec), first, 'served from the cache');
      assert.equal((await cached.readBytes(file, { ...spec, height: 1 }))[0], 200, 'another size is not cached (budget full)');
      assert.equal((await new ImageReader({ cacheBytes: 0 }).readBytes(file, spec))[0], 200);
      const uncached = new ImageReader({ cacheBytes: 0 });
      assert.equal((await uncached.readBytes(file, spec))[0], 200);
      await writeSolidImage(file, [90, 90, 90]);
      assert.equal((await uncached.readBytes(file, spec))[0], 90, 'cacheBytes 0 decodes every read');
      const byDefault = new ImageReader();
      const kept = await byDefault.readBytes(file, spec);
      await writeSolidImage(file, [7, 7, 7]);
      assert.equal(await byDefault.readBytes(file, spec), kept, 'the default reader keeps a small set decoded');
    });
  });

  it('resizes grey IDX pixels bilinearly with centres aligned', () => {
    assert.deepEqual([...resizeBilinearGrey(Uint8Array.from([0, 100]), 1, 2, 1, 4)], [0, 25, 75, 100]);
    assert.deepEqual([...resizeBilinearGrey(Uint8Array.from([0, 100, 200, 40]), 2, 2, 1, 1)], [85]);
  });

  it('reports truncated, non-image and unreadable files with their path', () => {
    return withTempDir(async (dir) => {
      const reader = new ImageReader();
      const good = path.join(dir, 'good.jpg');
      await writeSolidImage(good, [10, 200, 30], 32, 64);
      const bytes = await readFile(good);
      const truncated = path.join(dir, 'truncated.jpg');
      await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const text = path.join(dir, 'text.jpg');
      await writeFile(text, 'not an image');
      const folder = path.join(dir, 'folder.jpg');
      await mkdir(folder);
      const spec = { height: 8, width: 4, channels: 3 } as const;
      for (const [file, code] of [[truncated, 'image.corrupt'], [text, 'image.corrupt'], [folder, 'dataset.unreadable'], [path.join(dir, 'gone.jpg'), 'dataset.unreadable']] as const) {
        await assert.rejects(reader.read(file, spec), (err: unknown) => {
          assert.ok(err instanceof PulError);
          assert.equal(err.code, code, `${file}: ${err.message}`);
          assert.equal(err.where?.file, file);
          assert.ok(err.message.includes(file));
          return true;
        });
      }
    });
  });
});

describe('iterateBatches', () => {
  it('yields HWC batches in the given order, the same with or without prefetch', () => {
    return withTempDir(async (dir) => {
      const samples: Sample[] = [];
      for (let i = 0; i < 5; i++) {
        const file = path.join(dir, `${i}.png`);
        await writeSolidImage(file, [i * 50, 0, 0]);
        samples.push(sample(file, i));
      }
      const spec = { batchSize: 2, height: 4, width: 2, channels: 3, order: [4, 0, 3], normalize: 'unit' } as const;
      for (const prefetch of [0, 3]) {
        const batches = await collect(iterateBatches(samples, { ...spec, prefetch }));
        assert.deepEqual(batches.map((b) => [...b.shape]), [[2, 4, 2, 3], [1, 4, 2, 3]]);
        assert.deepEqual(batches.map((b) => [...b.indices]), [[4, 0], [3]]);
        // red channel of the first pixel of each image: 200/255, 0, 150/255
        assertClose([batches[0]!.pixels[0]!, batches[0]!.pixels[24]!, batches[1]!.pixels[0]!], [200 / 255, 0, 150 / 255]);
      }
      const dropped = await collect(iterateBatches(samples, { ...spec, dropLast: true }));
      assert.equal(dropped.length, 1);
    });
  });

  it('skips corrupt images with skipBad, throws without it', () => {
    return withTempDir(async (dir) => {
      const a = path.join(dir, 'a.png');
      const bad = path.join(dir, 'bad.jpg');
      const c = path.join(dir, 'c.png');
      await writeSolidImage(a, [255, 0, 0]);
      await writeFile(bad, 'garbage');
      await writeSolidImage(c, [0, 0, 255]);
      const samples = [sample(a), sample(bad), sample(c)];
      const opts = { batchSize: 3, height: 2, width: 2, channels: 3, normalize: 'unit' } as const;
      await assert.rejects(collect(iterateBatches(samples, opts)), (err: unknown) => err instanceof PulError && err.code === 'image.corrupt' && err.message.includes(bad));
      const [b] = await collect(iterateBatches(samples, { ...opts, skipBad: true }));
      assert.ok(b);
      assert.deepEqual([...b.shape], [2, 2, 2, 3]);
      assert.deepEqual([...b.indices], [0, 2]);
      assert.deepEqual(b.skipped, [bad]);
      assertClose(b.pixels.subarray(12, 15), [0, 0, 1], { atol: 0.01, label: 'c moved up to slot 1' });
    });
  });

  it('augments deterministically under a seed', () => {
    return withTempDir(async (dir) => {
      const file = path.join(dir, 'grad.png');
      const raw = Buffer.alloc(16 * 8 * 3);
      for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) % 256;
      await sharp(raw, { raw: { width: 8, height: 16, channels: 3 } }).png().toFile(file);
      const samples = Array.from({ length: 6 }, () => sample(file));
      const run = async (seed: number, prefetch: number): Promise<Float32Array> => {
        const bs = await collect(iterateBatches(samples, { batchSize: 2, height: 16, width: 8, channels: 3, augment: { flip: true, padCrop: 2, erasing: 0.5, rotation: 20, shift: 0.2 }, rng: new Rng(seed), prefetch }));
        return Float32Array.from(bs.flatMap((b) => [...b.pixels]));
      };
      const a = await run(7, 2);
      assert.deepEqual(await run(7, 0), a, 'same seed, same pixels, whatever the prefetch depth');
      assert.notDeepEqual(await run(8, 2), a, 'another seed changes them');
      const plain = await collect(iterateBatches(samples.slice(0, 1), { batchSize: 1, height: 16, width: 8, channels: 3 }));
      assert.notDeepEqual(a.subarray(0, 16 * 8 * 3), plain[0]!.pixels, 'augmentation changed the image');
      await assert.rejects(collect(iterateBatches(samples, { batchSize: 2, height: 16, width: 8, channels: 3, augment: { flip: true } })), /needs an rng/);
    });
  });
});
