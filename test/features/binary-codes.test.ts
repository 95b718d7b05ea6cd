/** codes.bin: the packing of sign bits, the documented byte layout, round trip, and damaged files → PulError naming the file. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { CODES_FILE, PulError, Rng, codeBit, decodeCodes, encodeCodes, featureMatrix, packSigns, readCodes, writeCodes } from '../../src/index.js';
import { withTempDir } from '../helpers/temp-dir.js';

const isPul = (code: string, pattern: RegExp) => (e: unknown) => e instanceof PulError && e.code === code && pattern.test(e.message);

test('sign bits pack LSB first: bit j of a row is bit j mod 8 of byte j / 8 (> 0 → 1, 0 and negatives → 0)', () => {
  const values = [1, -1, 0, 2, -3, 0.5, -0.5, 4, /* byte 1 */ -1, -1, -1, -1, -1, -1, -1, 0.1];
  const codes = packSigns(featureMatrix(1, 16, Float32Array.from(values)));
  assert.deepEqual([codes.rows, codes.bits, codes.words], [1, 16, 1]);
  assert.equal(codes.data[0], 0b1000_0000_1010_1001n);
  values.forEach((v, j) => assert.equal(codeBit(codes, 0, j), v > 0 ? 1 : 0, `bit ${j}`));
  const bytes = encodeCodes(codes);
  assert.equal(bytes.subarray(0, 8).toString('ascii'), 'PULCODES');
  assert.deepEqual([bytes.readUInt32LE(8), bytes.readUInt32LE(12), bytes.readUInt32LE(16)], [1, 1, 16]);
  assert.deepEqual([...bytes.subarray(20)], [0b1010_1001, 0b1000_0000]);
  assert.equal(bytes.length, 20 + 2);
});

test('round trip through codes.bin for 8, 72 (a partial 64-bit word) and 1024 bits', async () => {
  await withTempDir(async (dir) => {
    const rng = new Rng(5);
    for (const bits of [8, 72, 1024]) {
      const m = featureMatrix(7, bits, Float32Array.from({ length: 7 * bits }, () => rng.normal()));
      const codes = packSigns(m);
      const file = path.join(dir, `${bits}-${CODES_FILE}`);
      await writeCodes(file, codes);
      assert.equal((await readFile(file)).length, 20 + (7 * bits) / 8);
      const back = await readCodes(file);
      assert.deepEqual([back.rows, back.bits, back.words], [7, bits, Math.ceil(bits / 64)]);
      assert.deepEqual([...back.data], [...codes.data]);
      for (let r = 0; r < 7; r++) for (let j = 0; j < bits; j++) assert.equal(codeBit(back, r, j), m.data[r * bits + j]! > 0 ? 1 : 0);
    }
  });
});

test('damaged, truncated or foreign codes.bin → features.malformed naming the file; bad widths refused', async () => {
  const good = encodeCodes(packSigns(featureMatrix(3, 16, Float32Array.from({ length: 48 }, (_, i) => (i % 3) - 1))));
  const file = 'q/codes.bin';
  assert.throws(() => decodeCodes(good.subarray(0, good.length - 1), file), isPul('features.malformed', /q\/codes\.bin: truncated: 3 rows × 16 bits need 26 bytes, the file has 25/));
  assert.throws(() => decodeCodes(good.subarray(0, 10), file), isPul('features.malformed', /shorter than the 20-byte header/));
  assert.throws(() => decodeCodes(Buffer.concat([good, Buffer.of(0)]), file), isPul('features.malformed', /1 bytes after the 3 rows/));
  const foreign = Buffer.from(good);
  foreign.write('NUMPY!!!', 0, 'ascii');
  assert.throws(() => decodeCodes(foreign, file), isPul('features.malformed', /does not start with "PULCODES"/));
  const version = Buffer.from(good);
  version.writeUInt32LE(2, 8);
  assert.throws(() => decodeCodes(version, file), isPul('features.malformed', /format version 2/));
  const width = Buffer.from(good);
  width.writeUInt32LE(12, 16);
  assert.throws(() => decodeCodes(width, file), isPul('features.malformed', /12 bits is not a multiple of 8/));
  assert.throws(() => packSigns(featureMatrix(1, 2048)), isPul('features.mismatch', /2048 bits is outside 8–1024/));
  await withTempDir(async (dir) => {
    const missing = path.join(dir, CODES_FILE);
    await assert.rejects(readCodes(missing), (e) => e instanceof PulError && e.code === 'features.malformed' && e.where?.file === missing && /pul extract --binary/.test(e.message));
    await writeFile(missing, good.subarray(0, 23));
    await assert.rejects(readCodes(missing), (e) => e instanceof PulError && e.where?.file === missing && /truncated/.test(e.message));
  });
});
