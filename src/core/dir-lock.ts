/**
 * One process at a time per run folder: `<dir>/.pul.lock` holds the owner's PID, host and start time,
 * created with exclusive create (`wx`) so two processes cannot both take it. A lock whose process is
 * gone (killed, crashed) is stale and taken over; a live owner's lock is a named error. The lock is
 * released when the work ends — also on an error, and on process exit (a second Ctrl-C).
 */
import { promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PulError } from './errors.js';

export const LOCK_FILE = '.pul.lock';

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
  readonly command: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

async function readLock(file: string): Promise<LockInfo | null> {
  try {
    const info = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockInfo>;
    return typeof info.pid === 'number' ? (info as LockInfo) : null;
  } catch {
    return null;
  }
}

export interface DirLock {
  readonly file: string;
  release(): Promise<void>;
}

/**
 * Takes `dir`'s lock for `command` (e.g. 'pul run'); `option` names the folder in errors.
 * @example
 * const lock = await lockDir(runDir, 'pul run', '--resume');
 * try { ... } finally { await lock.release(); }
 */
export async function lockDir(dir: string, command: string, option: string): Promise<DirLock> {
  const file = path.join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), command };
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(file, `${JSON.stringify(info)}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new PulError('output.notWritable', `cannot lock ${dir} (${option}): ${(err as Error).message}`, { file, option }, { cause: err });
      }
      const holder = await readLock(file);
      // a lock of a dead process on this host, or an unreadable one (a crash while writing it), is stale
      const stale = holder === null ? attempt === 0 : holder.host === info.host && !alive(holder.pid);
      if (!stale || attempt > 0) {
        const who = holder ? `${holder.command} (PID ${holder.pid} on ${holder.host}, since ${holder.started})` : 'another process';
        throw new PulError('state.locked', `${dir} is in use by ${who}; wait for it to end (or, if that process is gone, delete ${file})`, { file, option });
      }
      await fs.rm(file, { force: true });
    }
  }
  const onExit = (): void => rmSync(file, { force: true });
  process.on('exit', onExit);
  let released = false;
  return {
    file,
    async release() {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      await fs.rm(file, { force: true });
    },
  };
}
