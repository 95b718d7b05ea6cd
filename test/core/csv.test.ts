import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { featureMatrix, readClusterFiles, readFeatureFolder, readSelectionFile, writeClusterFiles, writeFeatureFolder, writeSelectionFile } from '../../src/index.js';
import { formatCsv, parseCsv } from '../../src/core/csv.js';
import { loadCsvManifest } from '../../src/datasets/csv-manifest.js';
import { withTempDir } from '../helpers/temp-dir.js';

// Paths a file system allows and a naive CSV writer or line-splitting reader breaks on.
const PATHS = ['plain/a.jpg', 'with,comma.jpg', 'with"quote".jpg', 'with\rcr.jpg', 'with\nlf.jpg', 'crlf\r\nboth.jpg', ' leading and trailing space .jpg', 'trailing,"all"\r\n'];

const pathsOf = async (file: string, column: number) => parseCsv(await readFile(file, 'utf8'), file).slice(1).map((r) => r.fields[column]);

test('formatCsv and parseCsv round-trip every field', () => {
  const text = formatCsv(['path', 'n'], PATHS.map((p, i) => [p, i]));
  assert.equal(text.split('\n')[0], 'path,n');
  assert.deepEqual(
    parseCsv(text, 'x.csv').map((r) => r.fields),
    [['path', 'n'], ...PATHS.map((p, i) => [p, String(i)])],
  );
});

test('index.csv, assignments.csv and selection.csv read back the rows they were written with', () =>
  withTempDir(async (dir) => {
    const n = PATHS.length;
    const features = featureMatrix(n, 2, Float32Array.from({ length: 2 * n }, (_, i) => i));
    const index = PATHS.map((p, i) => ({ path: p, pid: i % 3, camid: i % 2 }));
    await writeFeatureFolder(path.join(dir, 'f'), { features, index });
    assert.deepEqual((await readFeatureFolder(path.join(dir, 'f'))).index, index);

    const assignment = Int32Array.from(PATHS, (_, i) => i % 2);
    await writeClusterFiles(path.join(dir, 'c'), { k: 2, assignment, centroids: featureMatrix(2, 2, new Float32Array(4)) }, PATHS);
    assert.deepEqual((await readClusterFiles(path.join(dir, 'c'))).assignment, assignment);
    assert.deepEqual(await pathsOf(path.join(dir, 'c', 'assignments.csv'), 2), PATHS);
    // a density clustering's noise rows (−1) read back as such
    const noisy = Int32Array.from(PATHS, (_, i) => (i % 3 === 0 ? -1 : i % 2));
    await writeClusterFiles(path.join(dir, 'n'), { k: 2, assignment: noisy, centroids: featureMatrix(2, 2, new Float32Array(4)) }, PATHS);
    const back = await readClusterFiles(path.join(dir, 'n'));
    assert.deepEqual(back.assignment, noisy);
    assert.equal(back.noise, noisy.filter((c) => c === -1).length);
    await writeFile(path.join(dir, 'n', 'assignments.csv'), 'row,cluster,path\n0,-2,a\n');
    await assert.rejects(readClusterFiles(path.join(dir, 'n')), /cluster -2 is outside \[0, 2\) and is not −1/);

    const indices = Int32Array.of(7, 1, 3, 5);
    const labels = Int32Array.of(0, 1, 1, 0);
    await writeSelectionFile(dir, { lambda: 0.5, indices, labels, similarity: Float32Array.of(0.9, 0.8, 0.7, 0.6), anchorRows: Int32Array.of(-1, -1), emptyClusters: new Int32Array(0) }, PATHS);
    assert.deepEqual(await readSelectionFile(dir), { indices, labels });
    assert.deepEqual(await pathsOf(path.join(dir, 'selection.csv'), 3), Array.from(indices, (i) => PATHS[i]));
  }));

test('a CSV manifest with quoted paths loads them whole', () =>
  withTempDir(async (dir) => {
    const file = path.join(dir, 'manifest.csv');
    await writeFile(file, formatCsv(['path', 'pid', 'camid'], PATHS.map((p, i) => [p, i, 0])));
    const dataset = await loadCsvManifest(file);
    assert.deepEqual(
      dataset.samples.map((s) => s.path),
      PATHS.map((p) => path.resolve(dir, p)),
    );
  }));

test('a malformed CSV is an error naming the file and line', () => {
  assert.throws(
    () => parseCsv('a,b\n1,2\n3,"4\n', 'bad.csv'),
    (e: unknown) => (e as { code?: string; where?: { file?: string } }).code === 'csv.malformedLine' && /bad\.csv/.test((e as Error).message),
  );
});

test('plain CSV (no quote, CR, tab or edge space: split on lines and commas) reads exactly as csv-parse reads it', () => {
  const reference = (text: string, relax: boolean) =>
    (parse(text, { info: true, skip_empty_lines: true, trim: true, bom: true, relax_column_count: relax }) as unknown as { record: string[]; info: { lines: number } }[]).map(({ record, info }) => ({ fields: record, line: info.lines }));
  const texts = [
    'path,pid,camid\nimg/1_0.jpg,1,0\nimg/2_1.jpg,,1\n', // plain: the fast path
    'path,pid,camid\n\nmy photos/a b.jpg,1,0\n\n\nc.jpg,2,1', // empty lines skipped, inner spaces kept, no final LF
    'a\n', // one column
    '',
    'path,pid\n a.jpg,1\n', // edge spaces: trimmed by csv-parse
    'path,pid\na.jpg ,1\nb.jpg, 2\n',
    'path,pid\r\na.jpg,1\r\n', // CRLF
    '\ufeffpath,pid\na.jpg,1\n', // BOM
    'path,pid\n"a,b.jpg",1\n', // quoted
    'path,pid\na.jpg,1,extra\n', // wrong length: relaxed below
    'path,pid\na\tb.jpg,1\n',
  ];
  for (const text of texts) {
    for (const relax of [false, true]) {
      let expected: unknown;
      try {
        expected = reference(text, relax);
      } catch {
        assert.throws(() => parseCsv(text, 'x.csv', { relaxColumnCount: relax }), /x\.csv:\d+ is not valid CSV/, JSON.stringify(text));
        continue;
      }
      assert.deepEqual(parseCsv(text, 'x.csv', { relaxColumnCount: relax }), expected, JSON.stringify(text));
    }
  }
});
