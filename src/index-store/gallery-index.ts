/**
 * A gallery index in PostgreSQL + pgvector: one row per gallery image (path, pid, camera, time,
 * embedding), an HNSW index over cosine distance, and a one-row meta table (dimension, metric, the
 * model's fingerprint). Camera and time filters are SQL WHERE clauses whose values are parameters.
 *
 * pgvector's HNSW scan with a WHERE clause filters the ef_search candidates it found, so a selective
 * filter can return fewer than k rows. PGlite 0.4 ships pgvector 0.8.1, whose iterative scan
 * (hnsw.iterative_scan) keeps scanning until k rows pass; when it still stops short (its tuple budget),
 * search() reruns the query exactly, so a filtered top-k has k rows whenever k rows match.
 *
 * A camera filter is the common query ("where else did this person appear", from one camera's view).
 * Through the whole-gallery graph it is slow either way: the planner scans the camera's rows exactly
 * (bitmap scan + sort, ~80 ms for 16 700 of 100 000 × 256 rows), or the HNSW scan discards 5 of 6
 * candidates. So every camera with at least CAMERA_INDEX_MIN_ROWS rows also gets a partial HNSW index
 * (`WHERE camera = c`): the planner matches `camera = $n` to it (parameters are bound before planning)
 * and searches a graph of that camera's rows only; several cameras are a UNION ALL of such searches.
 * Smaller cameras are ranked exactly through the btree on camera, which is as fast at that size.
 * The planner prices a distance like an addition (pgvector's functions have the default cost), so it
 * prefers ranking a few thousand rows exactly to an index search ~5× faster; a search of cameras that
 * all have their index therefore turns sequential and bitmap scans off for its one statement.
 */
import { PulError } from '../core/errors.js';
import type { Database, Queryable } from './database.js';
import { encodeCopyRows, encodeVector, type GalleryRow } from './copy-binary.js';

export type { GalleryRow } from './copy-binary.js';

/** What an index was built with: embedding size, metric, and the model that made its embeddings. */
export interface IndexMeta {
  readonly dim: number;
  readonly metric: 'cosine';
  /** Fingerprint of the checkpoint's weights (SHA-256 of its weight hashes), null when unknown (feature folders). */
  readonly model: string | null;
}

/** Which gallery rows may match: only these cameras, not this camera, a time window (inclusive). */
export interface SearchFilter {
  readonly cameras?: readonly number[];
  readonly excludeCamera?: number;
  readonly timeFrom?: number;
  readonly timeTo?: number;
}

/** How many matches, and how: exact (sequential scan) or HNSW with ef_search candidates. */
export interface SearchOptions extends SearchFilter {
  /** Matches to return (default 10). */
  readonly top?: number;
  /** Skip the HNSW index: exact cosine ranking of every row that passes the filter. */
  readonly exact?: boolean;
  /**
   * HNSW candidate list size (default max(64, 2·top), at most 1000). On embeddings with a trained model's
   * neighbour structure (bench/gallery-data.ts, 20 000 × 256, one camera) top-10 recall was 1.0 at 100,
   * 0.998 at 64 and 0.983 at 40 (pgvector's default).
   */
  readonly efSearch?: number;
}

/** One match: the gallery row and its cosine distance (1 − cosine similarity) to the query. */
export interface Match extends GalleryRow {
  readonly distance: number;
}

/** Every gallery row's labels in insertion order (for evaluation). */
export interface GalleryLabels {
  readonly paths: readonly string[];
  readonly pids: readonly (number | null)[];
  readonly cameras: readonly (number | null)[];
}

const TABLE = 'pul_gallery';
const META = 'pul_index_meta';
const HNSW = 'pul_gallery_embedding_hnsw';
/** Partial HNSW indexes, one per camera: this prefix, then the camera number ('m' for minus). */
const CAMERA_HNSW = 'pul_gallery_hnsw_camera_';
/** Below this many rows a camera is ranked exactly (btree on camera + sort: ~1 ms per 1 000 × 256 rows in PGlite). */
export const CAMERA_INDEX_MIN_ROWS = 1000;
/** At most this many cameras (the largest) get a partial index: each one costs its share of build time. */
const MAX_CAMERA_INDEXES = 64;
/** Camera lists up to this long are searched as one partial-index search per camera. */
const MAX_CAMERA_UNION = 16;
/** pgvector indexes vector columns of up to 2 000 dimensions. */
const MAX_DIM = 2000;

/** The text form of a vector parameter ('[0.1,0.2]'), cast to vector in SQL. */
function vectorParam(v: ArrayLike<number>): string {
  return `[${Array.prototype.join.call(v, ',')}]`;
}


/**
 * A gallery index on an open database.
 * @example
 * const db = await openDatabase('./gallery.db', { create: true });
 * const index = await GalleryIndex.create(db, { dim: 2, metric: 'cosine', model: null });
 * await index.insert([{ path: 'a.jpg', pid: 1, camera: 1, time: null }], Float32Array.of(1, 0));
 * await index.buildAnnIndex();
 * const [best] = await index.search(Float32Array.of(0.9, 0.1), { top: 1 }); // best.path === 'a.jpg'
 */
export class GalleryIndex {
  /** Cameras with a partial HNSW index (read on the first search, renewed by build/drop). */
  private cameraIndexes: Promise<Set<number>> | null = null;

  private constructor(
    readonly db: Database,
    readonly meta: IndexMeta,
  ) {}

  /** Opens the index in `db`, creating its tables when there are none; `meta` must match an existing index's. */
  static async create(db: Database, meta: IndexMeta): Promise<GalleryIndex> {
    if (!(Number.isInteger(meta.dim) && meta.dim >= 1 && meta.dim <= MAX_DIM)) {
      throw new PulError('index.mismatch', `an embedding of ${meta.dim} dimensions cannot be indexed: pgvector's HNSW takes 1 to ${MAX_DIM}`, { option: '--db' });
    }
    const existing = await readMeta(db);
    if (existing !== null) {
      const index = new GalleryIndex(db, existing);
      index.checkCompatible(meta.dim, meta.model);
      return index;
    }
    await db.transaction(async (tx) => {
      await tx.query('CREATE EXTENSION IF NOT EXISTS vector');
      await tx.query(`CREATE TABLE ${META} (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), dim integer NOT NULL, metric text NOT NULL, model text, created timestamptz NOT NULL DEFAULT now())`);
      // dim is a checked integer: DDL cannot take it as a parameter
      await tx.query(`CREATE TABLE ${TABLE} (id bigserial PRIMARY KEY, path text NOT NULL UNIQUE, pid integer, camera integer, time double precision, embedding vector(${meta.dim}) NOT NULL)`);
      await tx.query(`CREATE INDEX ${TABLE}_camera ON ${TABLE} (camera)`);
      await tx.query(`INSERT INTO ${META} (dim, metric, model) VALUES ($1, $2, $3)`, [meta.dim, meta.metric, meta.model]);
    });
    return new GalleryIndex(db, meta);
  }

  /** Opens the existing index in `db` (an index.empty error when the database holds none). */
  static async open(db: Database): Promise<GalleryIndex> {
    const meta = await readMeta(db);
    if (meta === null) throw new PulError('index.empty', `${db.location} holds no pul gallery index: build one with pul index --db`, { option: '--db' });
    return new GalleryIndex(db, meta);
  }

  /** Throws index.mismatch when embeddings of `dim` from `model` cannot be compared with this index's. */
  checkCompatible(dim: number, model: string | null, source = 'the embeddings'): void {
    if (dim !== this.meta.dim) throw new PulError('index.mismatch', `${source} have ${dim} dimensions, the index at ${this.db.location} holds ${this.meta.dim}`, { option: '--db' });
    if (model !== null && this.meta.model !== null && model !== this.meta.model) {
      throw new PulError('index.mismatch', `${source} come from another model (weights ${model.slice(0, 12)}…) than the index at ${this.db.location} was built with (${this.meta.model.slice(0, 12)}…): distances between them mean nothing`, { option: '--checkpoint' });
    }
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${TABLE}`);
    return row?.n ?? 0;
  }

  /** The paths already in the index (re-running pul index skips them). */
  async paths(): Promise<Set<string>> {
    const rows = await this.db.query<{ path: string }>(`SELECT path FROM ${TABLE}`);
    return new Set(rows.map((r) => r.path));
  }

  /**
   * Inserts rows with their embeddings (rows × dim) in one transaction: all of them or none.
   * A path already in the index is a unique-constraint error; callers skip known paths first.
   */
  async insert(rows: readonly GalleryRow[], vectors: Float32Array): Promise<void> {
    const dim = this.meta.dim;
    if (vectors.length !== rows.length * dim) throw new PulError('features.mismatch', `${rows.length} rows need ${rows.length * dim} embedding values, got ${vectors.length}`);
    if (rows.length === 0) return;
    await this.db.transaction((tx) => insertRows(tx, rows, vectors, dim));
  }

  /** Whether the HNSW index exists. */
  async hasAnnIndex(): Promise<boolean> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::float8 AS n FROM pg_indexes WHERE tablename = $1 AND indexname = $2', [TABLE, HNSW]);
    return (row?.n ?? 0) > 0;
  }

  /**
   * Builds what is missing of the HNSW indexes (cosine): the whole gallery's, then one partial index per
   * camera with at least CAMERA_INDEX_MIN_ROWS rows; then refreshes the planner's statistics (without
   * them it takes a camera for 0.5 % of the rows and ranks it exactly). Each index is one transaction, so
   * a build killed mid-way keeps the indexes it finished and the next call builds the rest.
   * Returns how many indexes it built.
   */
  async buildAnnIndex(options: { m?: number; efConstruction?: number; onIndex?: (what: string) => void } = {}): Promise<number> {
    const m = options.m ?? 16;
    const ef = options.efConstruction ?? 64;
    if (!Number.isInteger(m) || !Number.isInteger(ef)) throw new PulError('option.outOfRange', `HNSW m=${m} and ef_construction=${ef} must be integers`);
    const existing = new Set(await this.annIndexNames());
    const wanted: { name: string; camera: number | null; rows: number }[] = [];
    if (!existing.has(HNSW)) wanted.push({ name: HNSW, camera: null, rows: await this.count() });
    const cameras = await this.db.query<{ camera: number; n: number }>(
      `SELECT camera, count(*)::float8 AS n FROM ${TABLE} WHERE camera IS NOT NULL GROUP BY camera HAVING count(*) >= $1 ORDER BY count(*) DESC, camera LIMIT $2`,
      [CAMERA_INDEX_MIN_ROWS, MAX_CAMERA_INDEXES],
    );
    for (const { camera, n } of cameras) if (!existing.has(cameraIndexName(camera))) wanted.push({ name: cameraIndexName(camera), camera, rows: n });
    for (const { name, camera, rows } of wanted) {
      options.onIndex?.(camera === null ? `the HNSW index over ${rows} rows` : `the HNSW index of camera ${camera} (${rows} rows)`);
      await this.db.transaction(async (tx) => {
        // pgvector builds fast while the graph fits in maintenance_work_mem (100 000 × 256 rows: ~130 MB)
        // no parallel build: PGlite has no worker processes, and the shared memory the leader would set up for
        // them is never given back (the 4th build of a session failed: could not map shared memory segment)
        await tx.query("SELECT set_config('maintenance_work_mem', '512MB', true), set_config('max_parallel_maintenance_workers', '0', true)");
        // m, ef and camera are checked integers: DDL cannot take parameters
        await tx.query(`CREATE INDEX IF NOT EXISTS ${name} ON ${TABLE} USING hnsw (embedding vector_cosine_ops) WITH (m = ${m}, ef_construction = ${ef})${camera === null ? '' : ` WHERE camera = ${camera}`}`);
      });
    }
    await this.db.query(`ANALYZE ${TABLE}`);
    this.cameraIndexes = null;
    return wanted.length;
  }

  /** Drops every HNSW index (before a load larger than the index, then rebuilt). */
  async dropAnnIndex(): Promise<void> {
    for (const name of await this.annIndexNames()) await this.db.query(`DROP INDEX IF EXISTS ${name}`);
    this.cameraIndexes = null;
  }

  /** The names of the HNSW indexes that exist (the whole gallery's and the cameras'). */
  private async annIndexNames(): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>('SELECT indexname AS name FROM pg_indexes WHERE tablename = $1 AND (indexname = $2 OR starts_with(indexname, $3))', [TABLE, HNSW, CAMERA_HNSW]);
    return rows.map((r) => r.name);
  }

  /**
   * The `top` nearest gallery rows to `vector` by cosine distance that pass the filter, nearest first
   * (ties: the earlier inserted row first).
   */
  async search(vector: ArrayLike<number>, options: SearchOptions = {}): Promise<Match[]> {
    const { sql, params, settings, filtered, top } = await this.statement(vector, options);
    const run = (exact: boolean): Promise<Match[]> => this.db.queryWith<Match>({ ...settings, enable_indexscan: exact ? 'off' : 'on' }, sql, params);
    const matches = await run(options.exact ?? false);
    // the iterative scan gives up after hnsw.max_scan_tuples: a very selective filter may still come up short
    if (matches.length < top && filtered && !options.exact) return run(true);
    return matches;
  }

  /** The query plan of search(vector, options)'s first statement, executed (EXPLAIN ANALYZE), one line per row. */
  async explain(vector: ArrayLike<number>, options: SearchOptions = {}): Promise<string[]> {
    const { sql, params, settings } = await this.statement(vector, options);
    const rows = await this.db.queryWith<{ 'QUERY PLAN': string }>({ ...settings, enable_indexscan: options.exact ? 'off' : 'on' }, `EXPLAIN ANALYZE ${sql}`, params);
    return rows.map((r) => r['QUERY PLAN']);
  }

  /** The SQL of a search, its parameters and planner settings. */
  private async statement(vector: ArrayLike<number>, options: SearchOptions): Promise<{ sql: string; params: unknown[]; settings: Record<string, string>; filtered: boolean; top: number }> {
    if (vector.length !== this.meta.dim) throw new PulError('index.mismatch', `a query of ${vector.length} dimensions against an index of ${this.meta.dim}`, { option: '--db' });
    const top = options.top ?? 10;
    if (!(Number.isInteger(top) && top >= 1 && top <= 10_000)) throw new PulError('option.outOfRange', `top ${top} must be an integer in [1, 10000]`, { option: '--top' });
    const params: unknown[] = [encodeVector(vector), top];
    const where: string[] = [];
    const bind = (value: unknown): string => `$${params.push(value)}`;
    if (options.excludeCamera !== undefined) where.push(`camera IS DISTINCT FROM ${bind(options.excludeCamera)}::int`);
    if (options.timeFrom !== undefined) where.push(`time >= ${bind(options.timeFrom)}::float8`);
    if (options.timeTo !== undefined) where.push(`time <= ${bind(options.timeTo)}::float8`);
    const nearest = (conditions: readonly string[]): string =>
      `SELECT id, path, pid, camera, time, embedding <=> $1::vector AS distance FROM ${TABLE}` +
      `${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY embedding <=> $1::vector LIMIT $2`;
    const cameras = options.cameras === undefined ? undefined : [...new Set(options.cameras.map((c) => Math.trunc(c)))];
    let inner: string;
    if (cameras === undefined) inner = nearest(where);
    // `camera = $n` (not = ANY) lets the planner pick the camera's partial HNSW index
    else if (cameras.length >= 1 && cameras.length <= MAX_CAMERA_UNION) inner = cameras.map((c) => `(${nearest([`camera = ${bind(c)}::int`, ...where])})`).join(' UNION ALL ');
    else inner = nearest([`camera = ANY(${bind(cameras)}::int[])`, ...where]);
    const filtered = where.length > 0 || cameras !== undefined;
    const sql = `SELECT path, pid, camera, time, distance FROM (${inner}) nearest ORDER BY distance, id LIMIT $2`;
    const ef = Math.min(1000, options.efSearch ?? Math.max(64, 2 * top));
    this.cameraIndexes ??= this.annIndexNames().then((names) => new Set(names.filter((n) => n !== HNSW).map(cameraOfIndex)));
    const indexed = await this.cameraIndexes;
    const viaCameraIndexes = cameras !== undefined && cameras.length <= MAX_CAMERA_UNION && cameras.every((c) => indexed.has(c)) ? 'off' : 'on';
    return {
      sql,
      params,
      settings: { 'hnsw.ef_search': String(ef), 'hnsw.iterative_scan': 'relaxed_order', enable_seqscan: viaCameraIndexes, enable_bitmapscan: viaCameraIndexes },
      filtered,
      top,
    };
  }

  /** Every row's path, pid and camera (null when unknown), in insertion order. */
  async labels(): Promise<GalleryLabels> {
    const rows = await this.db.query<{ path: string; pid: number | null; camera: number | null }>(`SELECT path, pid, camera FROM ${TABLE} ORDER BY id`);
    return {
      paths: rows.map((r) => r.path),
      pids: rows.map((r) => r.pid),
      cameras: rows.map((r) => r.camera),
    };
  }
}

/** The partial HNSW index of camera `c` (an integer, so the name is safe in DDL). */
function cameraIndexName(c: number): string {
  return `${CAMERA_HNSW}${c < 0 ? 'm' : ''}${Math.abs(c)}`;
}

/** The camera of a partial index's name (cameraIndexName's inverse). */
function cameraOfIndex(name: string): number {
  const tail = name.slice(CAMERA_HNSW.length);
  return tail.startsWith('m') ? -Number(tail.slice(1)) : Number(tail);
}

async function readMeta(db: Queryable): Promise<IndexMeta | null> {
  const [exists] = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [META]);
  if (exists?.t == null) return null;
  const [row] = await db.query<{ dim: number; metric: string; model: string | null }>(`SELECT dim, metric, model FROM ${META}`);
  if (row === undefined || row.metric !== 'cosine') return null;
  return { dim: row.dim, metric: 'cosine', model: row.model };
}

async function insertRows(tx: Queryable, rows: readonly GalleryRow[], vectors: Float32Array, dim: number): Promise<void> {
  if (tx.copyBinary) {
    await tx.copyBinary(TABLE, ['path', 'pid', 'camera', 'time', 'embedding'], encodeCopyRows(rows, vectors, dim));
    return;
  }
  const texts = rows.map((_, i) => vectorParam(vectors.subarray(i * dim, (i + 1) * dim)));
  await tx.query(
    `INSERT INTO ${TABLE} (path, pid, camera, time, embedding) SELECT p, q, c, t, v::vector FROM unnest($1::text[], $2::int[], $3::int[], $4::float8[], $5::text[]) AS u(p, q, c, t, v)`,
    [rows.map((r) => r.path), rows.map((r) => r.pid), rows.map((r) => r.camera), rows.map((r) => r.time), texts],
  );
}
