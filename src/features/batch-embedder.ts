/**
 * Embeddings of images that arrive one at a time (a server's requests), forwarded in batches: the
 * requests waiting while one forward pass runs go together into the next, up to `maxBatch`. On two
 * cores one pass of 16 images costs far less than 16 passes of one.
 */
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import type { ReidModel } from '../model/build-model.js';

interface Pending {
  readonly pixels: Float32Array;
  readonly resolve: (embedding: Float32Array) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * @example
 * const embedder = new BatchEmbedder(model);
 * const embedding = await embedder.embed(pixels); // pixels: H×W×C normalised floats → embeddingDim floats
 */
export class BatchEmbedder {
  private readonly queue: Pending[] = [];
  private running = false;
  private readonly size: number;

  constructor(
    private readonly model: ReidModel,
    private readonly maxBatch = 16,
  ) {
    const { height, width, channels } = model.spec.input;
    this.size = height * width * channels;
  }

  /** The embedding (not normalised) of one image's H×W×C floats. */
  embed(pixels: Float32Array): Promise<Float32Array> {
    if (pixels.length !== this.size) return Promise.reject(new PulError('features.mismatch', `an image of ${pixels.length} values for a model input of ${this.size}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ pixels, resolve, reject });
      if (!this.running) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.running = true;
    const { height, width, channels } = this.model.spec.input;
    const dim = this.model.spec.embeddingDim;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const input = new Float32Array(batch.length * this.size);
          batch.forEach((p, i) => input.set(p.pixels, i * this.size));
          const out = tf.tidy(() => this.model.embedder.predict(tf.tensor4d(input, [batch.length, height, width, channels])) as tf.Tensor);
          const values = (await out.data()) as Float32Array;
          out.dispose();
          batch.forEach((p, i) => p.resolve(values.slice(i * dim, (i + 1) * dim)));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
        // let requests that arrived during the pass join the next batch
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
    }
  }
}
