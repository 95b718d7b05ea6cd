/** Which rows of a labelled batch are positives and negatives of each other (the mining masks). */
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import { l2NormalizeRows } from './cluster-loss.js';

/** A value standing in for "no candidate" in a min/max over a masked row; far above any distance. */
export const FAR = 1e9;

/** Boolean N×N masks: `positive` same label and i ≠ j; `negative` different label. */
export interface PairMasks {
  readonly positive: tf.Tensor2D;
  readonly negative: tf.Tensor2D;
}

/** The positive and negative masks of `labels` (call inside a tf.tidy). */
export function pairMasks(labels: tf.Tensor1D): PairMasks {
  const l = tf.cast(labels, 'int32');
  const same = tf.equal<tf.Tensor2D>(tf.expandDims(l, 1), tf.expandDims(l, 0));
  const n = labels.shape[0];
  return {
    positive: tf.logicalAnd<tf.Tensor2D>(same, tf.logicalNot(tf.cast(tf.eye(n), 'bool'))),
    negative: tf.logicalNot<tf.Tensor2D>(same),
  };
}

/** 1 where row i has at least one true entry in `mask`, else 0 (N, float). */
export function rowHasAny(mask: tf.Tensor2D): tf.Tensor1D {
  return tf.cast(tf.greater(tf.sum(tf.cast(mask, 'float32'), 1), 0), 'float32') as tf.Tensor1D;
}

/**
 * Checks that `embeddings` is N×D with N ≥ 1 and `labels` has N entries; returns the embeddings,
 * L2-normalised row by row when `normalize` is set.
 */
export function prepareBatch(embeddings: tf.Tensor2D, labels: tf.Tensor1D, normalize: boolean, loss: string): tf.Tensor2D {
  if (embeddings.rank !== 2 || labels.rank !== 1 || embeddings.shape[0] !== labels.shape[0]) {
    throw new PulError(
      'option.invalid',
      `${loss}: embeddings of shape [${embeddings.shape.join(', ')}] need one label per row, got labels of shape [${labels.shape.join(', ')}]`,
      { option: 'labels' },
    );
  }
  return normalize ? l2NormalizeRows(embeddings) : embeddings;
}

/** Throws unless `value` is a finite number ≥ `min` (the options of the losses). */
export function checkNumber(value: number, option: string, loss: string, min = 0): void {
  if (!(Number.isFinite(value) && value >= min)) {
    const rule = min === -Infinity ? 'a finite number' : `a finite number ≥ ${min}`;
    throw new PulError('option.outOfRange', `${loss}: ${option}=${value} must be ${rule}`, { option });
  }
}
