/**
 * `pul serve`'s HTTP JSON API (fastify): POST /search with an image's bytes → its nearest gallery
 * rows; GET /health → the index's size and model. The model and the index are loaded once by the
 * caller and shared by every request.
 *
 * What a client can and cannot do:
 * - every route needs `Authorization: Bearer <token>` (checked before the body is read, in constant
 *   time); without it the answer is 401 `{"error":"unauthorized"}` and nothing else;
 * - requests per client address are rate limited (429), bodies are limited in bytes (413) and images
 *   in pixels by their header (413), before any pixel is decoded;
 * - the only input is the image's bytes and a few numbers in the query string (schema-validated,
 *   unknown parameters rejected): no route takes a path, so the server never opens a file a client names;
 * - decoding runs in worker threads (decode-pool.ts), the forward pass in batches (BatchEmbedder).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { GalleryIndex, Match } from '../index-store/gallery-index.js';
import { UPLOAD_FORMATS, UploadError } from './decode-image.js';

/** What the server needs: the index, a decoder and an embedder, the token and the limits. */
export interface ServeOptions {
  readonly index: GalleryIndex;
  /** Upload bytes → the model's input (an UploadError names a bad upload). */
  readonly decode: (bytes: Uint8Array) => Promise<Float32Array>;
  /** Model input → embedding. */
  readonly embed: (pixels: Float32Array) => Promise<Float32Array>;
  /** The bearer token; null only when the caller allowed an unauthenticated loopback server. */
  readonly token: string | null;
  /** Largest request body in bytes (default 4 MiB). */
  readonly bodyLimit?: number;
  /** Requests per client address per minute (default 3 000). */
  readonly rateLimit?: number;
  /** Largest `top` a client may ask (default 100). */
  readonly maxTop?: number;
  /** Shown by /health: e.g. the model's weights fingerprint (not a path). */
  readonly model?: string;
}

interface SearchQuery {
  top: number;
  camera?: number;
  exclude_camera?: number;
  time_from?: number;
  time_to?: number;
}

const MIME_TYPES = UPLOAD_FORMATS.map((f) => `image/${f}`);

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Builds the server (not listening yet): `await app.listen({ host: '127.0.0.1', port })`, `await app.close()`.
 * @example
 * const app = await buildServer({ index, decode: (b) => pool.decode(b), embed: (p) => embedder.embed(p), token });
 * await app.listen({ host: '127.0.0.1', port: 8080 });
 */
export async function buildServer(options: ServeOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? 4 * 1024 * 1024;
  const maxTop = options.maxTop ?? 100;
  const app = Fastify({
    bodyLimit,
    logger: false,
    // unknown query parameters are an error, not silently dropped
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
    return503OnClosing: true,
  });
  await app.register(rateLimit, { max: options.rateLimit ?? 3000, timeWindow: 60_000 });

  const expected = options.token === null ? null : digest(`Bearer ${options.token}`);
  app.addHook('onRequest', async (request, reply) => {
    if (expected === null) return;
    const given = request.headers.authorization;
    // equal-length digests compared in constant time: the answer says nothing about how close a guess was
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
    }
  });

  // only image bytes are accepted; JSON, forms and text bodies get 415
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...MIME_TYPES, 'application/octet-stream'], { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError | UploadError, _request, reply) => {
    if (err instanceof UploadError) return reply.code(err.status).send({ error: err.code, message: err.message });
    const e = err;
    if (e.validation) {
      const unknown = e.validation.map((v) => v.params['additionalProperty']).find((p) => typeof p === 'string');
      return reply.code(400).send({ error: 'request.invalid', message: unknown === undefined ? e.message : `unknown query parameter '${String(unknown)}' (allowed: top, camera, exclude_camera, time_from, time_to)` });
    }
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: 'request.tooLarge', message: `the body is larger than the limit of ${bodyLimit} bytes` });
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      return reply.code(415).send({ error: 'request.mediaType', message: `send the image's bytes with Content-Type ${[...MIME_TYPES, 'application/octet-stream'].join(', ')}` });
    }
    if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.statusCode === 400) return reply.code(400).send({ error: 'request.invalid', message: e.message });
    if (e.statusCode === 429) return reply.code(429).send({ error: 'request.rateLimited', message: e.message });
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return reply.code(e.statusCode).send({ error: 'request.invalid', message: e.message });
    return reply.code(500).send({ error: 'internal', message: 'the server failed to answer; see its log' });
  });

  app.get('/health', async () => ({ status: 'ok', rows: await options.index.count(), dim: options.index.meta.dim, metric: options.index.meta.metric, model: options.model ?? null }));

  app.post<{ Querystring: SearchQuery; Body: Buffer }>(
    '/search',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            top: { type: 'integer', minimum: 1, maximum: maxTop, default: 10 },
            camera: { type: 'integer', minimum: -1_000_000, maximum: 1_000_000 },
            exclude_camera: { type: 'integer', minimum: -1_000_000, maximum: 1_000_000 },
            time_from: { type: 'number' },
            time_to: { type: 'number' },
          },
        },
      },
    },
    async (request) => {
      const started = performance.now();
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) throw new UploadError(400, 'image.notAnImage', 'the request has no body: POST the image bytes');
      const pixels = await options.decode(body);
      const embedding = await options.embed(pixels);
      const q = request.query;
      const matches: Match[] = await options.index.search(embedding, {
        top: q.top,
        ...(q.camera === undefined ? {} : { cameras: [q.camera] }),
        ...(q.exclude_camera === undefined ? {} : { excludeCamera: q.exclude_camera }),
        ...(q.time_from === undefined ? {} : { timeFrom: q.time_from }),
        ...(q.time_to === undefined ? {} : { timeTo: q.time_to }),
      });
      return { matches, ms: Math.round((performance.now() - started) * 10) / 10 };
    },
  );
  return app;
}
