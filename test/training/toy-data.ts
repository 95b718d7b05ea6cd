import { MODEL_PRESETS, Rng, type BatchSource, type ModelSpec, type TrainBatch } from '../../src/index.js';

/** Side of the toy images. */
const S = 8;

/** A tiny 8×8 grey spec of the fmnist net with 2 classes: fast enough for many epochs on cpu. */
export const TOY_SPEC: ModelSpec = { ...MODEL_PRESETS.fmnist, input: { height: S, width: S, channels: 1 }, classes: 2 };

/**
 * `n` images: class 0 bright on the left half, class 1 on the right, plus seeded noise; batches of
 * `batch` in a per-epoch seeded order (the same epoch gives the same batches).
 */
export function toySource(n = 32, batch = 8, poison: { epoch: number; step: number } | null = null): BatchSource {
  const rng = new Rng(123);
  const px = S * S;
  const images = new Float32Array(n * px);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) images[i * px + y * S + x] = ((x < S / 2) === (i % 2 === 0) ? 1 : 0) + 0.3 * rng.normal();
  }
  return {
    stepsPerEpoch: Math.floor(n / batch),
    *batches(epoch: number): Iterable<TrainBatch> {
      const order = new Rng(epoch + 1).shuffle(Array.from({ length: n }, (_, i) => i));
      for (let s = 0; s + batch <= n; s += batch) {
        const pixels = new Float32Array(batch * px);
        const y = new Int32Array(batch);
        for (let b = 0; b < batch; b++) {
          const i = order[s + b]!;
          pixels.set(images.subarray(i * px, (i + 1) * px), b * px);
          y[b] = labels[i]!;
        }
        if (poison && poison.epoch === epoch && poison.step === s / batch) pixels[0] = Number.NaN;
        yield { pixels, shape: [batch, S, S, 1], labels: y };
      }
    },
  };
}
