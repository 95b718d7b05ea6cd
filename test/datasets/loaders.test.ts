import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PulError, detectFormat, loadDataset, parseClassList, samplesOf, summarizeDataset, type PulErrorCode } from '../../src/index.js';
import { parseMarketName } from '../../src/datasets/market1501.js';
import { parseMsmt17Camid } from '../../src/datasets/msmt17.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { writeIdxPair, writeImages, writeSolidImage } from './fixtures.js';

async function rejectsWith(p: Promise<unknown>, code: PulErrorCode, pattern: RegExp): Promise<PulError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof PulError, `expected a PulError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  return caught;
}

describe('Market-1501 / DukeMTMC-reID', () => {
  it('parses both file-name patterns', () => {
    assert.deepEqual(parseMarketName('0002_c1s1_000451_03.jpg'), { pid: 2, camid: 1 });
    assert.deepEqual(parseMarketName('-1_c3s2_012345_01.jpg'), { pid: -1, camid: 3 });
    assert.deepEqual(parseMarketName('0005_c2_f0046985.jpg'), { pid: 5, camid: 2 }); // Duke
    assert.equal(parseMarketName('person.jpg'), undefined);
  });

  it('drops junk (pid -1), keeps distractors (0000), maps folders to splits', () => {
    return withTempDir(async (root) => {
      await writeImages(path.join(root, 'bounding_box_train'), ['0002_c1s1_000451_03.jpg', '0002_c2s1_000551_01.jpg', '0007_c2_f0046985.jpg']);
      await writeImages(path.join(root, 'query'), ['0002_c1s1_001051_00.jpg']);
      await writeImages(path.join(root, 'bounding_box_test'), ['-1_c1s1_000401_03.jpg', '0000_c1s1_000151_01.jpg', '0002_c3s1_000001_01.jpg']);
      const ds = await loadDataset(root);
      assert.equal(ds.format, 'market1501');
      assert.equal(ds.junk, 1);
      assert.deepEqual(
        samplesOf(ds, 'train').map((s) => [path.basename(s.path), s.pid, s.camid]),
        [['0002_c1s1_000451_03.jpg', 2, 1], ['0002_c2s1_000551_01.jpg', 2, 2], ['0007_c2_f0046985.jpg', 7, 2]],
      );
      assert.deepEqual(samplesOf(ds, 'query').map((s) => s.pid), [2]);
      assert.deepEqual(samplesOf(ds, 'gallery').map((s) => [s.pid, s.camid]), [[0, 1], [2, 3]]);
      assert.ok(path.isAbsolute(ds.samples[0]!.path));
      const summary = await summarizeDataset(ds);
      assert.equal(summary.splits.gallery?.distractors, 1);
      assert.deepEqual(summary.sizes, [{ width: 8, height: 16, channels: 3, count: 6 }]);
      assert.deepEqual(summary.warnings, []);
    });
  });

  it('lists the first file names that match no pattern', () => {
    return withTempDir(async (root) => {
      await writeImages(path.join(root, 'bounding_box_train'), ['0001_c1s1_000001_01.jpg', 'IMG_0001.jpg', 'IMG_0002.jpg']);
      await rejectsWith(loadDataset(root), 'dataset.badFileName', /2 image\(s\).*IMG_0001\.jpg, IMG_0002\.jpg/);
    });
  });
});

describe('MSMT17 lists', () => {
  it('reads list files with paths under train/ and test/ and camid from the name', () => {
    return withTempDir(async (root) => {
      const tr = ['0000/0000_000_01_0303morning_0015_0.jpg', '0001/0001_004_07_0303noon_1202_1.jpg'];
      const te = ['0003/0003_000_02_0303afternoon_0041_0.jpg', '0003/0003_001_12_0303afternoon_0100_2.jpg'];
      await writeImages(path.join(root, 'train'), tr);
      await writeImages(path.join(root, 'test'), te);
      await writeFile(path.join(root, 'list_train.txt'), `${tr[0]} 0\n${tr[1]} 1\n`);
      await writeFile(path.join(root, 'list_val.txt'), `${tr[1]} 1\n`);
      await writeFile(path.join(root, 'list_query.txt'), `${te[0]} 3\n`);
      await writeFile(path.join(root, 'list_gallery.txt'), `${te[1]} 3\n`);
      assert.equal(await detectFormat(root), 'msmt17');
      const ds = await loadDataset(root);
      assert.deepEqual(ds.samples.map((s) => [s.split, s.pid, s.camid]), [['train', 0, 1], ['train', 1, 7], ['query', 3, 2], ['gallery', 3, 12]]);
      assert.equal(ds.samples[2]!.path, path.join(root, 'test', te[0]!));
      const withVal = await loadDataset(root, { includeVal: true });
      assert.equal(samplesOf(withVal, 'train').length, 3);
      assert.equal(parseMsmt17Camid('x/0000_000_01_0303morning_0015_0.jpg'), 1);
    });
  });

  it('names the list file and line of a malformed entry', () => {
    return withTempDir(async (root) => {
      await writeImages(path.join(root, 'train'), ['0000/0000_000_01_0303morning_0015_0.jpg']);
      await writeFile(path.join(root, 'list_train.txt'), '0000/0000_000_01_0303morning_0015_0.jpg 0\n0000/x.jpg zero\n');
      const err = await rejectsWith(loadDataset(root), 'dataset.badFileName', /"0000\/x\.jpg zero"/);
      assert.deepEqual(err.where, { file: path.join(root, 'list_train.txt'), line: 2 });
    });
  });
});

describe('CSV manifest', () => {
  it('reads paths relative to the CSV, empty pid = unlabelled, default split train', () => {
    return withTempDir(async (root) => {
      await writeImages(path.join(root, 'img'), ['a.jpg', 'b.png', 'c.webp', 'd.jpg']);
      const csv = path.join(root, 'list.csv');
      await writeFile(csv, 'path,pid,camid,split\nimg/a.jpg,4,0,train\nimg/b.png,,1,\nimg/c.webp,4,2,query\nimg/d.jpg,-1,1,gallery\n');
      const ds = await loadDataset(csv);
      assert.equal(ds.format, 'csv');
      assert.deepEqual(ds.samples.map((s) => [path.relative(root, s.path), s.pid, s.camid, s.split]), [
        ['img/a.jpg', 4, 0, 'train'],
        ['img/b.png', null, 1, 'train'],
        ['img/c.webp', 4, 2, 'query'],
      ]);
      assert.equal(ds.junk, 1);
      assert.equal((await loadDataset(root)).samples.length, 3, 'a folder with one .csv is read as that manifest');
    });
  });

  it('paths outside the manifest folder only with allowOutside; an absolute path inside it is fine', () => {
    return withTempDir(async (root) => {
      await writeImages(path.join(root, 'img'), ['a.jpg']);
      await mkdir(path.join(root, 'lists'));
      const csv = path.join(root, 'lists', 'm.csv');
      await writeFile(csv, `path,pid,camid\n../img/a.jpg,1,0\n${path.join(root, 'lists', 'b.jpg')},2,0\n`);
      await rejectsWith(loadDataset(csv), 'dataset.outsideRoot', /path \.\.\/img\/a\.jpg leaves the folder/);
      const ds = await loadDataset(csv, { allowOutside: true });
      assert.deepEqual(ds.samples.map((s) => s.path), [path.join(root, 'img', 'a.jpg'), path.join(root, 'lists', 'b.jpg')]);
    });
  });

  const bad: readonly [string, string, PulErrorCode, RegExp, number][] = [
    ['missing column', 'path,pid\na.jpg,1\n', 'csv.missingColumn', /lacks column\(s\) camid/, 1],
    ['bad pid', 'path,pid,camid\na.jpg,1,0\nb.jpg,x7,0\n', 'csv.malformedLine', /pid "x7" is not an integer/, 3],
    ['bad camid', 'path,pid,camid\na.jpg,1,-2\n', 'csv.malformedLine', /camid "-2"/, 2],
    ['bad split', 'path,pid,camid,split\na.jpg,1,0,test\n', 'csv.malformedLine', /split "test" is not one of train\|query\|gallery/, 2],
    ['short line', 'path,pid,camid\na.jpg,1\n', 'csv.malformedLine', /2 field\(s\), the header has 3/, 2],
    ['repeated column', 'path,pid,camid,pid\na.jpg,1,0,2\n', 'csv.malformedLine', /header "path,pid,camid,pid" names column "pid" twice/, 1],
    ['pid beyond int32', 'path,pid,camid\na.jpg,1,0\nb.jpg,99999999999999999999,0\n', 'csv.malformedLine', /pid 99999999999999999999 is above 2147483647/, 3],
    ['camid beyond int32', 'path,pid,camid\na.jpg,1,2147483648\n', 'csv.malformedLine', /camid 2147483648 is above 2147483647/, 2],
    ['path leaving its folder', 'path,pid,camid\na.jpg,1,0\n../../etc/passwd,1,0\n', 'dataset.outsideRoot', /path \.\.\/\.\.\/etc\/passwd leaves the folder .* \(it resolves to \/etc\/passwd\); pass --allow-outside/, 3],
    ['absolute path elsewhere', 'path,pid,camid\n/etc/passwd,1,0\n', 'dataset.outsideRoot', /path \/etc\/passwd leaves the folder/, 2],
  ];
  for (const [name, text, code, pattern, line] of bad) {
    it(`rejects a ${name} with file and line`, () => {
      return withTempDir(async (root) => {
        const csv = path.join(root, 'm.csv');
        await writeFile(csv, text);
        const err = await rejectsWith(loadDataset(csv), code, pattern);
        assert.deepEqual(err.where, { file: csv, line });
      });
    });
  }
});

describe('IDX', () => {
  it('applies the fmnist split rule: train → train, test → every 10th of the filtered images is a query', () => {
    return withTempDir(async (root) => {
      await writeIdxPair(root, 'train', [0, 5, 6, 1]);
      // test labels: positions among labels 5-9 are 0..10 → queries at filtered positions 0 and 10
      const testLabels = [5, 0, 6, 7, 8, 9, 5, 6, 7, 8, 9, 1, 5, 6];
      await writeIdxPair(root, 't10k', testLabels, { gz: false });
      assert.equal(await detectFormat(root), 'idx');
      const ds = await loadDataset(root, { classes: parseClassList('5-9') });
      const train = samplesOf(ds, 'train');
      assert.deepEqual(train.map((s) => [path.basename(s.path), s.pid]), [['train-images-idx3-ubyte.gz#1', 5], ['train-images-idx3-ubyte.gz#2', 6]]);
      const query = samplesOf(ds, 'query');
      // file indices of labels 5-9: 0,2,3,4,5,6,7,8,9,10,12,13 → filtered positions 0 and 10 → file indices 0 and 12
      assert.deepEqual(query.map((s) => [path.basename(s.path), s.pid, s.camid]), [['t10k-images-idx3-ubyte#0', 5, 0], ['t10k-images-idx3-ubyte#12', 5, 0]]);
      assert.equal(samplesOf(ds, 'gallery').length, 10);
      assert.ok(samplesOf(ds, 'gallery').every((s) => s.camid === 1));
      const all = await loadDataset(root);
      assert.equal(samplesOf(all, 'query').length, 2); // 14 test images: positions 0 and 10
    });
  });

  it('rejects a wrong magic, a size mismatch and a count mismatch', () => {
    return withTempDir(async (root) => {
      await writeIdxPair(root, 'train', [1, 2]);
      await writeFile(path.join(root, 'train-labels-idx1-ubyte.gz'), Uint8Array.from([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 2, 1, 2]));
      await rejectsWith(loadDataset(root), 'idx.malformed', /magic 12 34 08 01; an IDX file starts with 00 00 08/);
      await writeFile(path.join(root, 'train-labels-idx1-ubyte.gz'), Uint8Array.from([0, 0, 0x08, 0x01, 0, 0, 0, 3, 1, 2]));
      await rejectsWith(loadDataset(root), 'idx.malformed', /has 2 data bytes but its header \[3\] needs 3/);
      await writeFile(path.join(root, 'train-labels-idx1-ubyte.gz'), Uint8Array.from([0, 0, 0x08, 0x01, 0, 0, 0, 3, 1, 2, 3]));
      await rejectsWith(loadDataset(root), 'idx.malformed', /holds 2 images but .* 3 labels/);
    });
  });
});

describe('folder per identity and detection', () => {
  it('reads DIR/<pid>/*.jpg, numbering non-numeric names, camid from _cN', () => {
    return withTempDir(async (root) => {
      await writeImages(path.join(root, '12'), ['x_c3.jpg', 'y.jpg']);
      await writeImages(path.join(root, 'alice'), ['a.png']);
      const ds = await loadDataset(root);
      assert.equal(ds.format, 'folder');
      assert.deepEqual(ds.samples.map((s) => [s.pid, s.camid, s.split]), [[12, 3, 'train'], [12, 0, 'train'], [13, 0, 'train']]);
    });
  });

  it('ids beyond int32 in folder and file names are refused, naming the file', () => {
    return withTempDir(async (root) => {
      await writeImages(path.join(root, 'folders', '99999999999999999999'), ['a.jpg']);
      const err = await rejectsWith(loadDataset(path.join(root, 'folders')), 'dataset.badFileName', /identity folder 99999999999999999999 is a pid above 2147483647/);
      assert.equal(err.where?.file, path.join(root, 'folders', '99999999999999999999'));
      await writeImages(path.join(root, 'market', 'bounding_box_train'), ['0001_c1s1_000001_01.jpg', '99999999999_c1s1_000002_01.jpg']);
      await rejectsWith(loadDataset(path.join(root, 'market')), 'dataset.badFileName', /99999999999_c1s1_000002_01\.jpg has pid 99999999999 \/ camid 1; pul stores ids up to 2147483647/);
    });
  });

  it('names missing, empty and unrecognised folders', () => {
    return withTempDir(async (root) => {
      await rejectsWith(loadDataset(path.join(root, 'nope')), 'dataset.notFound', /does not exist/);
      await mkdir(path.join(root, 'empty'));
      await rejectsWith(loadDataset(path.join(root, 'empty')), 'dataset.empty', /is empty/);
      await mkdir(path.join(root, 'odd'));
      await writeFile(path.join(root, 'odd', 'readme.txt'), 'x');
      await writeSolidImage(path.join(root, 'odd', 'loose.jpg'), [1, 2, 3]);
      await rejectsWith(loadDataset(path.join(root, 'odd')), 'dataset.unknownLayout', /matches no known layout.*it holds: loose\.jpg, readme\.txt/);
    });
  });
});
