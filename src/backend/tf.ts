/**
 * The one import of TensorFlow.js for the rest of pul. Everything else imports `tf` from here, so the
 * same engine instance is shared whichever backend package registers itself into it.
 *
 * tfjs loads on first use of `tf`, with require: a command that computes no tensor (`pul cluster` and
 * `pul select` on the native kernels, `pul datasets`) does not pay its ~0.2 s of start-up, and Node's
 * ESM import of tfjs's CommonJS bundles would first scan them for their export names (~0.4 s more).
 * The backend packages (select-backend.ts) are CommonJS too and require the same @tensorflow/tfjs-core.
 */
import type * as TF from '@tensorflow/tfjs';
import { lazyRequire } from '../core/lazy-require.js';

// Production mode: no debug-only console banners (e.g. "install the node backend") in CLI output.
const load = lazyRequire<typeof TF>('@tensorflow/tfjs', (engine) => engine.enableProdMode());

export const tf: typeof TF = new Proxy({} as typeof TF, { get: (_, key) => (load() as unknown as Record<string | symbol, unknown>)[key] });

/**
 * The tfjs types pul names as `tf.X` (a value typed `typeof TF` carries no types of its own); this
 * namespace holds types only and merges with the `tf` value.
 */
/* eslint-disable @typescript-eslint/no-namespace -- type-only namespaces, merged with the value above */
export declare namespace tf {
  export type Rank = TF.Rank;
  export namespace Rank {
    export type R1 = TF.Rank.R1;
    export type R2 = TF.Rank.R2;
    export type R3 = TF.Rank.R3;
    export type R4 = TF.Rank.R4;
  }
  export type Tensor<R extends TF.Rank = TF.Rank> = TF.Tensor<R>;
  export type Scalar = TF.Scalar;
  export type Tensor1D = TF.Tensor1D;
  export type Tensor2D = TF.Tensor2D;
  export type Tensor3D = TF.Tensor3D;
  export type Tensor4D = TF.Tensor4D;
  export type Variable = TF.Variable;
  export type SymbolicTensor = TF.SymbolicTensor;
  export type LayersModel = TF.LayersModel;
  export type Optimizer = TF.Optimizer;
  export type LayerVariable = TF.LayerVariable;
  export type Shape = TF.Shape;
  export namespace serialization {
    export type ConfigDict = TF.serialization.ConfigDict;
  }
  export namespace layers {
    export type Layer = TF.layers.Layer;
  }
  export namespace io {
    export type IOHandler = TF.io.IOHandler;
    export type ModelArtifacts = TF.io.ModelArtifacts;
    export type SaveResult = TF.io.SaveResult;
    export type WeightsManifestEntry = TF.io.WeightsManifestEntry;
  }
}
/* eslint-enable @typescript-eslint/no-namespace */

export type Tensor = tf.Tensor;
