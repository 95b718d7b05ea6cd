import { tf, type LossValue } from '../../src/index.js';

/** The numbers of a LossValue, whose tensors are then disposed (so leak checks see only the loss' own tensors). */
export interface LossNumbers {
  readonly loss: number;
  readonly activeShare: number | undefined;
  readonly perAnchor: number[] | undefined;
}

export function readLoss(value: LossValue): LossNumbers {
  const numbers = {
    loss: value.loss.dataSync()[0]!,
    activeShare: value.activeShare?.dataSync()[0],
    perAnchor: value.perAnchor === undefined ? undefined : Array.from(value.perAnchor.dataSync()),
  };
  // every tensor of the value, including extras such as batch-all's activeTriplets
  tf.dispose(Object.values(value) as tf.Tensor[]);
  return numbers;
}

/** Runs a loss on plain arrays (rows, int32 labels) and returns its numbers; every tensor is disposed. */
export function lossOn(f: (embeddings: tf.Tensor2D, labels: tf.Tensor1D) => LossValue, x: readonly (readonly number[])[], y: readonly number[]): LossNumbers {
  const embeddings = tf.tensor2d(x as number[][]);
  const labels = tf.tensor1d(y as number[], 'int32');
  try {
    return readLoss(f(embeddings, labels));
  } finally {
    tf.dispose([embeddings, labels]);
  }
}
