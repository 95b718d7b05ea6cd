/**
 * CSV manifest (PROTOCOLS.md): header `path,pid,camid` and an optional `split` column
 * (train|query|gallery, default train); paths relative to the CSV file; an empty pid = unlabelled;
 * pid −1 = junk (dropped, counted). Every error names the file and the line.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCsv } from '../core/csv.js';
import { PulError } from '../core/errors.js';
import { MAX_ID, SPLITS, type Dataset, type Sample, type Split } from './sample.js';
import { resolveInside } from './scan.js';

const REQUIRED = ['path', 'pid', 'camid'] as const;

/** Loads a CSV manifest file; paths that leave its folder are refused unless `allowOutside`. */
export async function loadCsvManifest(file: string, opts: { readonly allowOutside?: boolean } = {}): Promise<Dataset> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'dataset.notFound' : 'dataset.unreadable';
    throw new PulError(code, `cannot read ${file}: ${(err as Error).message}`, { file }, { cause: err });
  }
  const records = parseCsv(text, file, { relaxColumnCount: true });
  const header = records[0];
  if (!header) throw new PulError('dataset.empty', `${file} is empty (expected a header path,pid,camid[,split])`, { file });
  const columns = header.fields.map((c) => c.toLowerCase());
  const missing = REQUIRED.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new PulError('csv.missingColumn', `${file} header "${header.fields.join(',')}" lacks column(s) ${missing.join(', ')} (expected path,pid,camid[,split])`, {
      file,
      line: header.line,
    });
  }
  const repeated = columns.find((c, i) => columns.indexOf(c) !== i);
  if (repeated !== undefined) {
    throw new PulError('csv.malformedLine', `${file} header "${header.fields.join(',')}" names column "${repeated}" twice (expected path,pid,camid[,split], each once)`, { file, line: header.line });
  }
  const col = (name: string): number => columns.indexOf(name);
  const [iPath, iPid, iCam, iSplit] = [col('path'), col('pid'), col('camid'), col('split')];
  const base = path.dirname(path.resolve(file));
  const samples: Sample[] = [];
  let junk = 0;
  for (const { fields: record, line } of records.slice(1)) {
    const where = { file, line };
    if (record.length < columns.length) {
      throw new PulError('csv.malformedLine', `line has ${record.length} field(s), the header has ${columns.length}`, where);
    }
    const rel = record[iPath] ?? '';
    if (rel === '') throw new PulError('csv.malformedLine', 'empty path', where);
    const pidText = record[iPid] ?? '';
    if (pidText !== '' && !/^-?\d+$/.test(pidText)) throw new PulError('csv.malformedLine', `pid "${pidText}" is not an integer (or empty for unlabelled)`, where);
    const pid = pidText === '' ? null : Number(pidText);
    if (pid !== null && pid < -1) throw new PulError('csv.malformedLine', `pid ${pid} is negative (only −1 = junk is allowed)`, where);
    if (pid !== null && pid > MAX_ID) throw new PulError('csv.malformedLine', `pid ${pidText} is above ${MAX_ID}, the largest pid pul stores`, where);
    const camText = record[iCam] ?? '';
    if (!/^\d+$/.test(camText)) throw new PulError('csv.malformedLine', `camid "${camText}" is not a non-negative integer`, where);
    if (Number(camText) > MAX_ID) throw new PulError('csv.malformedLine', `camid ${camText} is above ${MAX_ID}, the largest camid pul stores`, where);
    const splitText = iSplit >= 0 ? (record[iSplit] ?? '') : '';
    const split: Split = splitText === '' ? 'train' : (splitText as Split);
    if (!SPLITS.includes(split)) throw new PulError('csv.malformedLine', `split "${splitText}" is not one of ${SPLITS.join('|')}`, where);
    if (pid === -1) {
      junk++;
      continue;
    }
    samples.push({ path: resolveInside(base, rel, opts.allowOutside ?? false, where), pid, camid: Number(camText), split });
  }
  return { name: path.basename(file, path.extname(file)), root: base, format: 'csv', samples, junk };
}
