/**
 * Output ownership: a command writes only into a folder it creates or one it already owns, i.e. one
 * holding pul's marker file (`.pul-output.json`: which command wrote it and what kind of output it is).
 * `prepareOutput` decides, before any work, whether an output path may be written:
 * - a new path, or an empty folder, may be;
 * - a folder holding the marker of the same kind is the command's own: a replacing command (extract,
 *   cluster, datasets synth) replaces it only with --force, atomically; a growing one (train, run's
 *   runs folder, select) writes into it;
 * - a folder written by an earlier pul (no marker) is recognised by its files only: a growing command
 *   adopts it, a replacing one only with --force;
 * - anything else — a file, a folder with other files, an output of another kind — is refused;
 * - an output that is, holds or lies inside one of the command's inputs is refused even with --force;
 * - the folder that will be written must accept a file (a probe is created and removed), so a read-only
 *   folder or a file where a folder is expected fails before any work.
 * Every refusal is a PulError naming the option (family `output`, exit code 4).
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { writeDirAtomic, writeJsonAtomic } from './atomic-fs.js';
import { PulError } from './errors.js';
import { PACKAGE_VERSION } from './version.js';

export const OUTPUT_MARKER = '.pul-output.json';

/** What a folder written by pul holds. */
export type OutputKind = 'features' | 'clusters' | 'selection' | 'synthetic' | 'train' | 'runs' | 'report';

export interface OutputMarker {
  readonly pul: string;
  readonly kind: OutputKind;
  readonly command: string;
  readonly created: string;
}

/** A path a command reads, and the option that named it (for the message). */
export interface OutputInput {
  readonly path: string;
  readonly option: string;
}

export interface OutputRequest {
  readonly kind: OutputKind;
  /** e.g. 'pul extract': recorded in the marker, named in messages. */
  readonly command: string;
  /** The option (or config key) that named the output, e.g. '--out'. */
  readonly option: string;
  /** 'replace': the folder is rebuilt whole and swapped in (needs --force when it exists); 'grow': files are added to it. */
  readonly mode: 'replace' | 'grow';
  readonly force?: boolean;
  readonly inputs?: readonly OutputInput[];
  /** Other kinds of owned folder a growing command may write into (select: a clusters folder). */
  readonly alsoInto?: readonly OutputKind[];
  /** The paths the command writes, when not the whole folder (select: dir/selection.csv); checked against the inputs. */
  readonly writes?: readonly string[];
  /** Recognises a folder written by an earlier pul, without marker, from its entry names: its kind, or null. */
  readonly legacy?: (entries: readonly string[], dir: string) => Promise<OutputKind | null>;
}

export interface PreparedOutput {
  readonly dir: string;
  readonly kind: OutputKind;
  readonly command: string;
  /** new: absent; empty: an empty folder; owned: holds our marker; legacy: an earlier pul's output, adopted. */
  readonly state: 'new' | 'empty' | 'owned' | 'legacy';
  /** The kind of the existing folder (owned or legacy), else the requested one. */
  readonly existingKind: OutputKind;
}

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.stat(p);
  } catch {
    return null;
  }
}

/** The real path of p, resolving symlinks of the longest existing prefix (p itself may not exist). */
async function realPathOf(p: string): Promise<string> {
  const abs = path.resolve(p);
  const rest: string[] = [];
  let head = abs;
  for (;;) {
    try {
      return path.join(await fs.realpath(head), ...rest.reverse());
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return abs;
      rest.push(path.basename(head));
      head = parent;
    }
  }
}

const within = (inner: string, outer: string): boolean => inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);

export async function readOutputMarker(dir: string): Promise<OutputMarker | null> {
  try {
    const m = JSON.parse(await fs.readFile(path.join(dir, OUTPUT_MARKER), 'utf8')) as Partial<OutputMarker>;
    return typeof m.kind === 'string' && typeof m.command === 'string' ? (m as OutputMarker) : null;
  } catch {
    return null;
  }
}

function markerFor(kind: OutputKind, command: string): OutputMarker {
  return { pul: PACKAGE_VERSION, kind, command, created: new Date().toISOString() };
}

/** Creates and removes a probe file in dir: a read-only folder fails here, before any work. */
async function probeWritable(dir: string, req: OutputRequest, target: string): Promise<void> {
  const probe = path.join(dir, `.pul-probe-${process.pid}-${Date.now()}`);
  try {
    await fs.writeFile(probe, '', { flag: 'wx' });
    await fs.rm(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new PulError('output.notWritable', `cannot write ${target} (${req.option}): ${dir} does not accept new files (${code}); choose a writable folder`, { file: target, option: req.option }, { cause: err });
  }
}

/** The nearest existing ancestor of p; a file there means p cannot be created. */
async function existingAncestor(p: string, req: OutputRequest, target: string): Promise<string> {
  let dir = path.dirname(p);
  for (;;) {
    const s = await statOrNull(dir);
    if (s !== null) {
      if (!s.isDirectory()) throw new PulError('output.notWritable', `cannot create ${target} (${req.option}): ${dir} is a file, not a folder`, { file: target, option: req.option });
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return dir;
    dir = parent;
  }
}

async function checkInputs(dir: string, req: OutputRequest): Promise<void> {
  const writes = await Promise.all((req.writes ?? [dir]).map(realPathOf));
  for (const input of req.inputs ?? []) {
    const real = await realPathOf(input.path);
    for (const w of writes) {
      const relation = w === real ? 'is' : within(real, w) ? 'holds' : within(w, real) ? 'lies inside' : null;
      if (relation !== null) {
        throw new PulError('output.isInput', `${req.option} ${dir} ${relation} ${input.option} ${input.path}, which ${req.command} reads; choose an output apart from its inputs`, { file: dir, option: req.option });
      }
    }
  }
  // a folder swapped in whole must not be, or hold, the current folder either
  const cwd = await realPathOf(process.cwd());
  if (req.mode === 'replace' && writes.some((w) => within(cwd, w))) {
    throw new PulError('output.isInput', `${req.option} ${dir} is or holds the current folder; choose another folder`, { file: dir, option: req.option });
  }
}

/**
 * Checks that `dir` may be written as `req` says, before any work (see the module comment). Nothing is
 * created: call `commitOutputDir` (replace) or `claimOutputDir` (grow) once there is something to write.
 */
export async function prepareOutput(dir: string, req: OutputRequest): Promise<PreparedOutput> {
  const abs = path.resolve(dir);
  await checkInputs(abs, req);
  const s = await statOrNull(abs);
  const done = async (state: PreparedOutput['state'], existingKind: OutputKind, probeIn: string): Promise<PreparedOutput> => {
    await probeWritable(probeIn, req, dir);
    return { dir: abs, kind: req.kind, command: req.command, state, existingKind };
  };
  if (s === null) return done('new', req.kind, await existingAncestor(abs, req, dir));
  if (!s.isDirectory()) throw new PulError('output.exists', `${req.option} ${dir} is a file, not a folder; ${req.command} does not replace it`, { file: dir, option: req.option });
  // a replaced folder is swapped in from a sibling: the parent must take new entries; a grown one, the folder itself
  const probeIn = req.mode === 'replace' ? path.dirname(abs) : abs;
  const entries = (await fs.readdir(abs)).filter((e) => e !== OUTPUT_MARKER).sort();
  const marker = await readOutputMarker(abs);
  if (marker === null && entries.length === 0) return done('empty', req.kind, probeIn);
  const accepted = [req.kind, ...(req.alsoInto ?? [])];
  const legacyKind = marker === null ? ((await req.legacy?.(entries, abs)) ?? null) : null;
  const kind = marker?.kind ?? legacyKind;
  if (kind === null) {
    const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
    throw new PulError('output.exists', `${req.option} ${dir} already holds files that ${req.command} did not write (${shown}); choose a new or empty folder`, { file: dir, option: req.option });
  }
  const by = marker ? `${marker.command}` : 'an earlier pul';
  if (!accepted.includes(kind)) {
    throw new PulError('output.exists', `${req.option} ${dir} holds the ${kind} output of ${by}, not ${req.kind}; choose another folder`, { file: dir, option: req.option });
  }
  if (req.mode === 'replace' && !req.force) {
    throw new PulError('output.exists', `${req.option} ${dir} holds the ${kind} output of ${by}; add --force to replace it`, { file: dir, option: req.option });
  }
  return done(marker ? 'owned' : 'legacy', kind, probeIn);
}

/**
 * Builds the output in a temp sibling (`fill`, then the marker) and swaps it in: an earlier output is
 * replaced only once the new one is complete.
 */
export async function commitOutputDir(out: PreparedOutput, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  await writeDirAtomic(out.dir, async (tmp) => {
    await fill(tmp);
    await writeJsonAtomic(path.join(tmp, OUTPUT_MARKER), markerFor(out.kind, out.command));
  });
}

/** Creates a growing output (or adopts an earlier pul's) by writing its marker; an owned one is left as is. */
export async function claimOutputDir(out: PreparedOutput): Promise<void> {
  await fs.mkdir(out.dir, { recursive: true });
  if (out.state !== 'owned') await writeJsonAtomic(path.join(out.dir, OUTPUT_MARKER), markerFor(out.existingKind, out.command));
}

/** A legacy recogniser: the folder holds every `required` entry and nothing outside `required` ∪ `optional`. */
export function legacyFiles(kind: OutputKind, required: readonly string[], optional: readonly string[] = []): (entries: readonly string[]) => Promise<OutputKind | null> {
  return (entries) => Promise.resolve(required.every((r) => entries.includes(r)) && entries.every((e) => required.includes(e) || optional.includes(e)) ? kind : null);
}
