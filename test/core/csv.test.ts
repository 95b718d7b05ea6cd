import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
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
