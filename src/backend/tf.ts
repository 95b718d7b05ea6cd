/**
 * The one import of TensorFlow.js for the rest of pul. Everything else imports `tf` from here, so the
 * same engine instance is shared whichever backend package registers itself into it.
 */
import * as tf from '@tensorflow/tfjs';

// Production mode: no debug-only console banners (e.g. "install the node backend") in CLI output.
tf.enableProdMode();

export { tf };
export type Tensor = tf.Tensor;
