import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { PulError, readFeatureFolder, writeFeatureFolder, featureMatrix } from '../../src/index.js';
import { decodeNpy, encodeNpy, readNpy } from '../../src/features/features-npy.js';
import { assertFinite } from '../../src/features/feature-matrix.js';
import { withTempDir } from '../helpers/temp-dir.js';

const isPul = (code: string, pattern: RegExp) => (e: unknown) => e instanceof PulError && e.code === code && pattern.test(e.message);

test('.npy v1.0 layout: magic, version, 64-byte aligned header ending in a newline, little-endian f4 data', () => {
  const bytes = encodeNpy(featureMatrix(2, 3, Float32Array.from([1, 2, 3, 4, 5, 6])));
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const headerLength = bytes.readUInt16LE(8);
  assert.equal((10 + headerLength) % 64, 0);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
  assert.equal(bytes.readFloatLE(10 + headerLength + 4 * 5), 6);
  const back = decodeNpy(bytes, 'x.npy');
  assert.deepEqual([back.rows, back.dim, [...back.data]], [2, 3, [1, 2, 3, 4, 5, 6]]);
});

test('.npy v2.0 (4-byte header length, as numpy writes for huge headers) is read too', () => {
  const v1 = encodeNpy(featureMatrix(1, 2, Float32Array.from([0.5, -2])));
  const headerLength = v1.readUInt16LE(8);
  // v2.0: magic, 2 0, uint32 header length; header padded so that 12 + length is a multiple of 64
  const header = `${v1.subarray(10, 10 + headerLength).toString('latin1').trimEnd()}${' '.repeat(64 - 2)}`.slice(0, headerLength - 3) + '\n';
  const head = Buffer.alloc(12);
  v1.copy(head, 0, 0, 6);
  head[6] = 2;
  head.writeUInt32LE(header.length, 8);
  const v2 = Buffer.concat([head, Buffer.from(header, 'latin1'), v1.subarray(10 + headerLength)]);
  assert.equal((12 + header.length) % 64, 0);
  const back = decodeNpy(v2, 'v2.npy');
  assert.deepEqual([back.rows, back.dim, [...back.data]], [1, 2, [0.5, -2]]);
  const v4 = Buffer.from(v2);
  v4[6] = 4;
  assert.throws(() => decodeNpy(v4, 'v4.npy'), isPul('features.malformed', /v4\.npy.*unsupported format version 4\.0/));
});

test('malformed .npy files are refused with the reason and the file name', () => {
  const good = encodeNpy(featureMatrix(2, 2, Float32Array.from([1, 2, 3, 4])));
  assert.throws(() => decodeNpy(Buffer.from('not numpy at all'), 'a.npy'), isPul('features.malformed', /a\.npy .*no NumPy magic/));
  assert.throws(() => decodeNpy(good.subarray(0, good.length - 4), 'b.npy'), isPul('features.malformed', /b\.npy.*needs 16 bytes of data, the file has 12/));
  const f8 = Buffer.from(good.toString('latin1').replace("'<f4'", "'<f8'"), 'latin1');
  assert.throws(() => decodeNpy(f8, 'c.npy'), isPul('features.malformed', /c\.npy.*dtype <f8/));
  const fortran = Buffer.from(good.toString('latin1').replace("'fortran_order': False", "'fortran_order': True "), 'latin1');
  assert.throws(() => decodeNpy(fortran, 'd.npy'), isPul('features.malformed', /Fortran/));
});

test('a feature folder round-trips; inconsistent or missing folders are clear errors that keep what exists', () =>
  withTempDir(async (dir) => {
    const folder = path.join(dir, 'q');
    const index = [
      { path: 'a/0001_c1s1_000001_00.jpg', pid: 1, camid: 1, split: 'query' as const },
      { path: 'b,with,commas.jpg', pid: null, camid: 2, split: 'query' as const },
    ];
    await writeFeatureFolder(folder, { features: featureMatrix(2, 2, Float32Array.from([1, 0, 0, 1])), index });
    const back = await readFeatureFolder(folder);
    assert.deepEqual(back.index, index);
    assert.deepEqual([...back.features.data], [1, 0, 0, 1]);

    await assert.rejects(readFeatureFolder(path.join(dir, 'missing')), isPul('dataset.notFound', /missing does not exist/));
    // one index row too many
    await writeFile(path.join(folder, 'index.csv'), `${await readFile(path.join(folder, 'index.csv'), 'utf8')}c.jpg,3,1,query\n`);
    await assert.rejects(readFeatureFolder(folder), isPul('features.mismatch', /index\.csv has 3 rows but .*features\.npy has 2/));
    // a bad pid is reported with file and line
    await writeFile(path.join(folder, 'index.csv'), 'path,pid,camid\na.jpg,x7,1\nb.jpg,2,1\n');
    await assert.rejects(readFeatureFolder(folder), isPul('csv.malformedLine', /index\.csv:2: pid 'x7' is not an integer/));
    await writeFile(path.join(folder, 'index.csv'), 'path,camid\na.jpg,1\n');
    await assert.rejects(readFeatureFolder(folder), isPul('csv.missingColumn', /no 'pid' column/));
    // NaN features
    await writeFile(path.join(folder, 'index.csv'), 'path,pid,camid\na.jpg,1,1\nb.jpg,2,1\n');
    await writeFile(path.join(folder, 'features.npy'), encodeNpy(featureMatrix(2, 2, Float32Array.from([1, 0, Number.NaN, 1]))));
    await assert.rejects(readFeatureFolder(folder), isPul('features.malformed', /row 1 \(0-based\) holds NaN/));
  }));

test('a failed folder write leaves the previous folder intact', () =>
  withTempDir(async (dir) => {
    const folder = path.join(dir, 'g');
    await writeFeatureFolder(folder, { features: featureMatrix(1, 2, Float32Array.from([1, 2])), index: [{ path: 'a.jpg', pid: 1, camid: 0 }] });
    await assert.rejects(writeFeatureFolder(folder, { features: featureMatrix(1, 2), index: [] }), isPul('features.mismatch', /0 index rows for 1 feature rows/));
    await mkdir(path.join(dir, 'other'));
    assert.deepEqual((await readFeatureFolder(folder)).index, [{ path: 'a.jpg', pid: 1, camid: 0 }]);
    assert.deepEqual((await readdir(dir)).sort(), ['g', 'other']);
  }));

test('readNpy reads files straight into the matrix: v1, a v2 header past 64 KiB, truncated and missing files', () => {
  return withTempDir(async (dir) => {
    const m = featureMatrix(3, 5, Float32Array.from({ length: 15 }, (_, i) => i - 7.25));
    const v1 = encodeNpy(m);
    await writeFile(path.join(dir, 'v1.npy'), v1);
    assert.deepEqual(await readNpy(path.join(dir, 'v1.npy')), m);
    // a v2.0 header of 70 000 bytes (numpy writes one for many-field dtypes): read past the first 64 KiB
    const headerLength = v1.readUInt16LE(8);
    const text = v1.subarray(10, 10 + headerLength).toString('latin1').trimEnd();
    const header = `${text}${' '.repeat(70_000 - text.length - 1)}\n`;
    const head = Buffer.alloc(12);
    v1.copy(head, 0, 0, 6);
    head[6] = 2;
    head.writeUInt32LE(header.length, 8);
    await writeFile(path.join(dir, 'v2.npy'), Buffer.concat([head, Buffer.from(header, 'latin1'), v1.subarray(10 + headerLength)]));
    assert.deepEqual(await readNpy(path.join(dir, 'v2.npy')), m);
    await writeFile(path.join(dir, 'short.npy'), v1.subarray(0, v1.length - 4));
    await assert.rejects(readNpy(path.join(dir, 'short.npy')), isPul('features.malformed', /short\.npy.*needs 60 bytes of data, the file has 56/));
    await writeFile(path.join(dir, 'head.npy'), v1.subarray(0, 20));
    await assert.rejects(readNpy(path.join(dir, 'head.npy')), isPul('features.malformed', /head\.npy.*truncated header/));
    await assert.rejects(readNpy(path.join(dir, 'none.npy')), isPul('features.malformed', /cannot read .*none\.npy/));
  });
});

test('assertFinite names the first non-finite value, at any position of the unrolled check', () => {
  for (const bad of [Number.NaN, Infinity, -Infinity]) {
    for (const at of [0, 5, 6]) {
      const m = featureMatrix(7, 1, Float32Array.from({ length: 7 }, (_, i) => (i === at ? bad : i)));
      assert.throws(() => assertFinite(m, 'f.npy'), isPul('features.malformed', new RegExp(`row ${at} \\(0-based\\) holds ${bad}`)));
    }
  }
  assert.doesNotThrow(() => assertFinite(featureMatrix(7, 1, Float32Array.from([0, -0, 1e38, -1e38, 3, 4, 5])), 'f.npy'));
});
