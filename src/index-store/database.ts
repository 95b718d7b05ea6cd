/**
 * The two ways of reaching PostgreSQL behind one small interface (parameterised queries and
 * transactions): PGlite (Postgres compiled to WebAssembly, with pgvector) in a folder, the embedded
 * default; or a PostgreSQL server with pgvector through `pg` (`postgres://…`). Everything above this
 * file is the same SQL for both. SQL text never holds a value: values travel as parameters.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type * as Pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { PulError } from '../core/errors.js';
import { lazyRequire } from '../core/lazy-require.js';
import { lockDir, type DirLock } from '../core/dir-lock.js';

/** Something that runs one parameterised statement: a connection or an open transaction. */
export interface Queryable {
  /**
   * Runs `sql` with `$1…` bound to `params` (never spliced into the text); the rows it returns.
   * A Uint8Array parameter is sent in binary format (the type's receive function reads it).
   */
  query<R extends object>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * `COPY table (columns) FROM … WITH (FORMAT binary)` of `bytes` (PGCOPY format), when the connection
   * can take a file-less COPY (PGlite's /dev/blob); absent on `pg`, where parameterised INSERTs are fast
   * enough because a native server parses them.
   */
  readonly copyBinary?: (table: string, columns: readonly string[], bytes: Uint8Array) => Promise<void>;
}

/** An open database: queries, transactions (all or nothing), close. */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Where it is, for messages (a URL's password is masked). */
  readonly location: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs one read-only statement with planner settings in effect (e.g. hnsw.ef_search). PGlite has one
   * session: a setting is changed there only when it differs, so a search is one statement, not four;
   * on a server pool, SET LOCAL in a transaction keeps other connections' settings untouched.
   */
  queryWith<R extends object>(settings: Readonly<Record<string, string>>, sql: string, params?: readonly unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

/** How to open: `create` lets a new PGlite folder be made (pul index); readers open existing ones only. */
export interface OpenOptions {
  readonly create?: boolean;
  /** The option that named the location, for messages (default --db). */
  readonly option?: string;
  /** The command holding the PGlite folder's lock, for the message another process gets. */
  readonly command?: string;
}

/** True when `location` names a PostgreSQL server rather than a PGlite folder. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** A connection URL with its password masked. */
export function maskUrl(location: string): string {
  try {
    const url = new URL(location);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return location.replace(/:[^:@/]*@/, ':***@');
  }
}

/**
 * Opens `location`: a `postgres://` URL through `pg`, or a PGlite data folder (with pgvector).
 * @example
 * const db = await openDatabase('./gallery.db', { create: true });
 * const [row] = await db.query<{ n: number }>('SELECT $1::int + 1 AS n', [41]); // row.n === 42
 * await db.close();
 */
export async function openDatabase(location: string, options: OpenOptions = {}): Promise<Database> {
  return isPostgresUrl(location) ? openPostgres(location, options) : openPglite(location, options);
}

const pg = lazyRequire<typeof Pg>('pg');

async function openPostgres(location: string, options: OpenOptions): Promise<Database> {
  const shown = maskUrl(location);
  const { Pool } = pg();
  const pool: Pool = new Pool({ connectionString: location, max: 4, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined); // an idle client's dropped connection surfaces on its next query
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new PulError('index.unreachable', `cannot connect to ${shown} (${options.option ?? '--db'}): ${(err as Error).message}`, { option: options.option ?? '--db' }, { cause: err });
  }
  const run = async <R extends object>(client: Pool | PoolClient, sql: string, params: readonly unknown[] = []): Promise<R[]> => (await client.query(sql, params as unknown[])).rows as R[];
  const db: Database = {
    kind: 'postgres',
    location: shown,
    query: (sql, params) => run(pool, sql, params),
    queryWith: (settings, sql, params) =>
      db.transaction(async (tx) => {
        await applySettings(tx, settings, true);
        return tx.query(sql, params);
      }),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({ query: (sql, params) => run(client, sql, params) });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
  return db;
}

/** set_config of each setting (local: until the transaction ends); names and values are parameters. */
async function applySettings(q: Queryable, settings: Readonly<Record<string, string>>, local: boolean): Promise<void> {
  const entries = Object.entries(settings);
  if (entries.length === 0) return;
  const calls = entries.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, ${local})`);
  await q.query(`SELECT ${calls.join(', ')}`, entries.flat());
}

async function openPglite(location: string, options: OpenOptions): Promise<Database> {
  const option = options.option ?? '--db';
  const dir = path.resolve(location);
  const exists = existsSync(dir);
  if (exists) {
    const entries = (await fs.readdir(dir).catch(() => null)) ?? null;
    if (entries === null) throw new PulError('index.notIndex', `${location} is not a folder (${option}: a PGlite index folder or a postgres:// URL)`, { file: location, option });
    if (entries.length > 0 && !entries.includes('PG_VERSION')) {
      throw new PulError('index.notIndex', `${location} holds files but no PGlite database (no PG_VERSION): pul does not write into a folder it did not create (${option})`, { file: location, option });
    }
  } else if (!options.create) {
    throw new PulError('index.notIndex', `${location} does not exist: build an index with pul index --db ${location} first (${option})`, { file: location, option });
  } else {
    await fs.mkdir(dir, { recursive: true });
  }
  // Postgres in PGlite has one connection and one process per data folder
  const lock: DirLock = await lockDir(dir, options.command ?? 'pul', option);
  let db: PGlite;
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { vector } = await import('@electric-sql/pglite/vector');
    db = await PGlite.create(dir, { extensions: { vector } });
  } catch (err) {
    await lock.release();
    throw new PulError('index.unreachable', `cannot open the PGlite database in ${location} (${option}): ${(err as Error).message}`, { file: location, option }, { cause: err });
  }
  // a Uint8Array parameter travels in binary format, as `pg` sends a Buffer; PGlite would send its
  // toString() for a type it has no serializer for (pgvector's vector), so bytes pass through here
  const serializers = new Proxy<Record<number, (v: unknown) => string>>({}, {
    get: (_target, oid) => (value: unknown) => (value instanceof Uint8Array ? value : (db.serializers[Number(oid)]?.(value) ?? String(value))),
  });
  const queryable = (q: PGlite | Transaction): Queryable => ({
    query: async <R extends object>(sql: string, params: readonly unknown[] = []) => (await q.query<R>(sql, params as unknown[], { serializers })).rows,
    copyBinary: async (table, columns, bytes) => {
      await q.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' WITH (FORMAT binary)`, [], { blob: new Blob([bytes]) });
    },
  });
  const session = new Map<string, string>();
  const main = queryable(db);
  return {
    kind: 'pglite',
    location,
    ...main,
    async queryWith(settings, sql, params) {
      const changed = Object.fromEntries(Object.entries(settings).filter(([k, v]) => session.get(k) !== v));
      await applySettings(main, changed, false);
      for (const [k, v] of Object.entries(changed)) session.set(k, v);
      return main.query(sql, params);
    },
    transaction: (fn) => db.transaction((tx) => fn(queryable(tx))),
    async close() {
      try {
        await db.close();
      } finally {
        await lock.release();
      }
    },
  };
}
