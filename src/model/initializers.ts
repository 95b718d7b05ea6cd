/**
 * Weight initialisers, seeded from the run's Rng so that two runs with the same --seed build the same
 * network (tfjs initialisers take an explicit `seed`; without one they use Math.random).
 */
import { tf } from '../backend/tf.js';
import type { Rng } from '../core/random.js';

/**
 * `he` = He normal (convolutions, fan-in), `glorot` = Glorot uniform (Keras' default for dense),
 * `normal-0.001` = N(0, 0.001), the fc8 initialiser of the original PUL code (and train_ref.py's
 * reset_classifier).
 */
export type InitKind = 'he' | 'glorot' | 'normal-0.001';

export const INIT_KINDS = ['he', 'glorot', 'normal-0.001'] as const satisfies readonly InitKind[];

/** The initialisers a classifier may use (config model.classifierInit, `pul train --classifier-init`). */
export const CLASSIFIER_INITS = ['glorot', 'normal-0.001'] as const satisfies readonly InitKind[];
/** One of CLASSIFIER_INITS. */
export type ClassifierInit = (typeof CLASSIFIER_INITS)[number];

/** A fresh seeded initialiser; each call draws a new seed so every layer gets its own stream. */
export function makeInitializer(kind: InitKind, rng: Rng): ReturnType<typeof tf.initializers.heNormal> {
  const seed = rng.int(2 ** 31 - 1);
  switch (kind) {
    case 'he':
      return tf.initializers.heNormal({ seed });
    case 'glorot':
      return tf.initializers.glorotUniform({ seed });
    case 'normal-0.001':
      return tf.initializers.randomNormal({ mean: 0, stddev: 0.001, seed });
  }
}
