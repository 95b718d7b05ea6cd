/**
 * `pul serve --db DB --checkpoint CK --token-file F`: the HTTP JSON API over an index (src/serve/server.ts).
 * Authentication: a bearer token read from --token-file (at least 16 characters) is required; the one
 * exception is --no-auth, accepted only when the server listens on a loopback address (127.0.0.1, ::1),
 * for a single user's machine. SIGINT/SIGTERM stop it gracefully: no new connections, the requests in
 * flight are answered, then the decoders, the model and the database are closed.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  BatchEmbedder, DecodePool, GalleryIndex, PulError, buildServer, disposeModel, openDatabase, weightsFingerprint,
} from '../../index.js';
import { activateBackend } from '../global-options.js';
import { loadCheckpointOption } from '../checkpoint-option.js';
import { parseWhole } from '../parse-options.js';
import { runAction } from '../run-action.js';

interface ServeCliOptions {
  db: string;
  checkpoint: string;
  host: string;
  port: number;
  tokenFile?: string;
  auth: boolean;
  bodyLimit: number;
  maxPixels: number;
  rateLimit: number;
  decoders: number;
  maxBatch: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve an index over HTTP: POST /search with image bytes → its nearest gallery images (JSON); GET /health')
    .requiredOption('--db <db>', 'the index: a PGlite folder or a postgres:// URL')
    .requiredOption('--checkpoint <dir>', 'the checkpoint (or run folder) the index was built with')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one, printed)', parseWhole('--port', 0), 8080)
    .option('--token-file <file>', 'file holding the bearer token clients send (Authorization: Bearer …), ≥ 16 characters')
    .option('--no-auth', 'no token (only with a loopback --host: 127.0.0.1 or ::1)')
    .option('--body-limit <bytes>', 'largest upload', parseWhole('--body-limit', 1024), 4 * 1024 * 1024)
    .option('--max-pixels <n>', 'largest image by its header (width × height)', parseWhole('--max-pixels', 1), 16_000_000)
    .option('--rate-limit <n>', 'requests per client address per minute', parseWhole('--rate-limit', 1), 3000)
    .option('--decoders <n>', 'image decoding worker threads', parseWhole('--decoders', 1), 2)
    .option('--max-batch <n>', 'images per forward pass when requests queue up', parseWhole('--max-batch', 1), 16)
    .action(
      runAction(async (opts: ServeCliOptions) => {
        const token = await readToken(opts);
        await activateBackend(program);
        const { model, checkpoint } = await loadCheckpointOption(opts.checkpoint);
        const db = await openDatabase(opts.db, { command: 'pul serve' }).catch((err: unknown) => {
          disposeModel(model);
          throw err;
        });
        const fingerprint = weightsFingerprint(checkpoint);
        let pool: DecodePool | null = null;
        try {
          const index = await GalleryIndex.open(db);
          index.checkCompatible(model.spec.embeddingDim, fingerprint, `embeddings of ${opts.checkpoint}`);
          const { height, width, channels } = model.spec.input;
          pool = new DecodePool(opts.decoders, { height, width, channels, normalize: checkpoint.manifest.normalization }, opts.maxPixels);
          const embedder = new BatchEmbedder(model, opts.maxBatch);
          const decoder = pool;
          const app = await buildServer({ index, decode: (b) => decoder.decode(b), embed: (p) => embedder.embed(p), token, bodyLimit: opts.bodyLimit, rateLimit: opts.rateLimit, model: fingerprint ?? 'unknown' });
          await app.listen({ host: opts.host, port: opts.port });
          const address = app.server.address();
          const port = typeof address === 'object' && address !== null ? address.port : opts.port;
          const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
          process.stdout.write(`pul serve: ${await index.count()} rows from ${db.location}, listening on http://${host}:${port}${token === null ? ' (no auth)' : ''}\n`);
          await new Promise<void>((resolve) => {
            const stop = (): void => {
              process.removeListener('SIGINT', stop);
              process.removeListener('SIGTERM', stop);
              process.stdout.write('pul serve: stopping (answering the requests in flight)\n');
              resolve();
            };
            process.on('SIGINT', stop);
            process.on('SIGTERM', stop);
          });
          await app.close();
        } finally {
          await pool?.close();
          disposeModel(model);
          await db.close();
        }
      }),
    );
}

async function readToken(opts: ServeCliOptions): Promise<string | null> {
  if (!opts.auth) {
    if (opts.tokenFile !== undefined) throw new PulError('option.invalid', '--no-auth and --token-file contradict each other', { option: '--no-auth' });
    if (!LOOPBACK.has(opts.host)) throw new PulError('option.invalid', `--no-auth is only allowed on a loopback address (127.0.0.1, ::1), not --host ${opts.host}: give --token-file`, { option: '--no-auth' });
    return null;
  }
  if (opts.tokenFile === undefined) throw new PulError('option.invalid', 'pul serve needs --token-file (a file holding the bearer token), or --no-auth on 127.0.0.1', { option: '--token-file' });
  let text: string;
  try {
    text = await readFile(opts.tokenFile, 'utf8');
  } catch (err) {
    throw new PulError('option.invalid', `cannot read --token-file ${opts.tokenFile}: ${(err as Error).message}`, { file: opts.tokenFile, option: '--token-file' }, { cause: err });
  }
  const token = text.trim();
  if (token.length < 16 || /\s/.test(token)) throw new PulError('option.invalid', `the token in ${opts.tokenFile} must be one word of at least 16 characters (it has ${token.length}); e.g. openssl rand -hex 32 > ${opts.tokenFile}`, { file: opts.tokenFile, option: '--token-file' });
  return token;
}
