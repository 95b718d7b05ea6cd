import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { PulError, readFeatureFolder, writeFeatureFolder, featureMatrix } from '../../src/index.js';
import { decodeNpy, encodeNpy } from '../../src/features/features-npy.js';
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
