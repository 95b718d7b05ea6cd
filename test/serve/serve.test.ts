import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import {
  BatchEmbedder, DecodePool, GalleryIndex, MODEL_PRESETS, Rng, buildModel, buildServer, disposeModel, loadCheckpoint, openDatabase, saveCheckpoint, selectBackend, weightsFingerprint,
  type Database, type ReidModel,
} from '../../src/index.js';
import { runCli } from '../helpers/run-cli.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const TOKEN = 'a-test-token-of-32-characters-00';

let dir = '';
let db: Database;
let model: ReidModel;
let pool: DecodePool;
let app: FastifyInstance;
let png: Buffer;

/** A PNG whose header claims width × height, with one row of pixels: under 200 bytes. */
function pngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grey
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(width + 1))), chunk('IEND', Buffer.alloc(0))]);
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pul-serve-'));
  await selectBackend('wasm');
  const built = await buildModel(MODEL_PRESETS.fmnist, new Rng(4));
  await saveCheckpoint(path.join(dir, 'ck'), { model: built, normalization: 'unit', epoch: 1 });
  disposeModel(built);
  const loaded = await loadCheckpoint(path.join(dir, 'ck'));
  model = loaded.model;
  db = await openDatabase(path.join(dir, 'gallery.db'), { create: true });
  const index = await GalleryIndex.create(db, { dim: 128, metric: 'cosine', model: weightsFingerprint(loaded.checkpoint) });
  // gallery rows: the model's embeddings of grey squares, 2 per camera
  pool = new DecodePool(2, { ...model.spec.input, normalize: 'unit' }, 1_000_000);
  const embedder = new BatchEmbedder(model, 8);
  for (let i = 0; i < 8; i++) {
    const level = 30 * i;
    const bytes = await sharp({ create: { width: 20, height: 40, channels: 3, background: { r: level, g: 255 - level, b: level } } }).png().toBuffer();
    await index.insert([{ path: `gallery/${i}.png`, pid: i, camera: i % 4, time: i }], await embedder.embed(await pool.decode(bytes)));
  }
  await index.buildAnnIndex();
  png = await sharp({ create: { width: 28, height: 56, channels: 3, background: { r: 60, g: 195, b: 60 } } }).png().toBuffer();
  app = await buildServer({ index, decode: (b) => pool.decode(b), embed: (p) => embedder.embed(p), token: TOKEN, bodyLimit: 64 * 1024, model: 'test' });
});

after(async () => {
  await app.close();
  await pool.close();
  disposeModel(model);
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${TOKEN}` };

test('POST /search: an image in, its nearest gallery rows out (filters from the query string); GET /health', async () => {
  const res = await app.inject({ method: 'POST', url: '/search?top=3&exclude_camera=0', headers: { ...auth, 'content-type': 'image/png' }, payload: png });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json<{ matches: { path: string; camera: number; distance: number }[]; ms: number }>();
  assert.equal(body.matches.length, 3);
  assert.ok(body.matches.every((m) => m.camera !== 0 && m.path.startsWith('gallery/')));
  const cam1 = (await app.inject({ method: 'POST', url: '/search?camera=1', headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: png })).json<{ matches: { camera: number }[] }>();
  assert.deepEqual(cam1.matches.map((m) => m.camera), [1, 1]);
  const health = await app.inject({ method: 'GET', url: '/health', headers: auth });
  assert.deepEqual(health.json(), { status: 'ok', rows: 8, dim: 128, metric: 'cosine', model: 'test' });
  // concurrent requests are batched through one model, each gets its own answer
  const answers = await Promise.all(Array.from({ length: 6 }, () => app.inject({ method: 'POST', url: '/search?top=1', headers: { ...auth, 'content-type': 'image/png' }, payload: png })));
  assert.ok(answers.every((a) => a.statusCode === 200 && a.json<{ matches: unknown[] }>().matches.length === 1));
});

test('a missing or wrong token is 401 and nothing else, before the body is looked at', async () => {
  for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }, { authorization: `Bearer ${TOKEN}x` }]) {
    for (const req of [{ method: 'GET' as const, url: '/health' }, { method: 'POST' as const, url: '/search?path=/etc/passwd' }, { method: 'GET' as const, url: '/nope' }]) {
      const res = await app.inject({ ...req, headers: { ...headers, 'content-type': 'image/png' }, ...(req.method === 'POST' ? { payload: png } : {}) });
      assert.equal(res.statusCode, 401, `${JSON.stringify(headers)} ${req.url}`);
      assert.equal(res.body, '{"error":"unauthorized"}');
    }
  }
});

test('bad uploads are 4xx naming the problem; no request names a file the server opens', async () => {
  const post = (payload: Buffer | string, type = 'image/png', url = '/search') => app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': type }, payload });
  const cases: [Awaited<ReturnType<typeof post>>, number, RegExp][] = [
    [await post('definitely not an image'), 415, /not an image \(23 bytes\)/],
    [await post(pngHeader(100_000, 100_000)), 413, /100000 × 100000 image has 10000000000 pixels; the limit is 1000000/],
    [await post(Buffer.alloc(100 * 1024, 1)), 413, /larger than the limit of 65536 bytes/],
    [await post(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="/etc/passwd"/></svg>'), 'image/png'), 415, /svg images are not accepted/],
    [await post('{"path":"/etc/passwd"}', 'application/json'), 415, /Content-Type image\/jpeg/],
    [await post(png, 'image/png', '/search?path=/etc/passwd'), 400, /unknown query parameter 'path'/],
    [await post(png, 'image/png', '/search?top=100000'), 400, /top/],
    [await post(png.subarray(0, 60)), 415, /not an image/],
    [await post(pngHeader(40, 40)), 422, /not a readable image/], // a good header, one row of the 40
    [await post(Buffer.alloc(0)), 400, /no body|empty|image/i],
  ];
  for (const [res, status, message] of cases) {
    assert.equal(res.statusCode, status, res.body);
    assert.match(res.json<{ message: string }>().message, message);
  }
  // the server still answers after all that
  assert.equal((await post(png)).statusCode, 200);
});

test('pul serve: refuses to start without a token (or --no-auth off loopback); serves over 127.0.0.1; stops on SIGTERM', async () => {
  const noToken = await runCli(['serve', '--db', path.join(dir, 'gallery.db'), '--checkpoint', path.join(dir, 'ck')]);
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /needs --token-file .* or --no-auth on 127\.0\.0\.1/);
  const open = await runCli(['serve', '--db', path.join(dir, 'gallery.db'), '--checkpoint', path.join(dir, 'ck'), '--no-auth', '--host', '0.0.0.0']);
  assert.equal(open.code, 2);
  assert.match(open.stderr, /--no-auth is only allowed on a loopback address/);
  await writeFile(path.join(dir, 'short'), 'abc\n');
  const short = await runCli(['serve', '--db', path.join(dir, 'gallery.db'), '--checkpoint', path.join(dir, 'ck'), '--token-file', path.join(dir, 'short')]);
  assert.match(short.stderr, /at least 16 characters \(it has 3\)/);

  // the in-process server above holds the PGlite folder: hand it over
  await app.close();
  await db.close();
  await writeFile(path.join(dir, 'token'), `${TOKEN}\n`);
  const child = spawn(process.execPath, [MAIN, 'serve', '--db', path.join(dir, 'gallery.db'), '--checkpoint', path.join(dir, 'ck'), '--port', '0', '--token-file', path.join(dir, 'token'), '--backend', 'wasm']);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.on('close', () => reject(new Error(`pul serve exited: ${stderr}`)));
  });
  try {
    const ok = await fetch(`${url}/search?top=2`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body: png });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { matches: unknown[] }).matches.length, 2);
    const denied = await fetch(`${url}/health`);
    assert.equal(denied.status, 401);
  } finally {
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  }
  assert.match(stdout, /stopping/);
  // reopened so that after() closes something
  db = await openDatabase(path.join(dir, 'gallery.db'));
  app = await buildServer({ index: await GalleryIndex.open(db), decode: (b) => pool.decode(b), embed: () => Promise.reject(new Error('unused')), token: TOKEN });
});
