/**
 * Generalised-mean (GeM) pooling (Radenović, Tolias & Chum 2018), the pooling of Cluster-Contrast's
 * backbone: y_c = (mean_{h,w} max(x, ε)^p)^(1/p), p = 1 average pooling, p → ∞ max pooling; p = 3 by
 * default, learnable or fixed. A tfjs layer class registered for serialisation, so a checkpoint's
 * model.json that holds one loads again; tfjs is loaded lazily (backend/tf.ts), so the class is made and
 * registered on first use, once.
 */
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';

/** The clamp below the power: a ReLU feature map has zeros, whose p-th root has no gradient. */
const GEM_EPS = 1e-6;

/** Options of the GeM layer. */
export interface GemOptions {
  /** p ≥ 1; default 3 (Radenović et al.; Cluster-Contrast). */
  readonly p?: number;
  /** Whether p is trained with the network (default true, as in Cluster-Contrast's GeneralizedMeanPoolingP). */
  readonly learnable?: boolean;
  readonly name?: string;
}

type LayerCtor = new (args: GemOptions) => tf.layers.Layer;
let gemClass: LayerCtor | null = null;

/** The GeM layer class, made and registered with tfjs's serialisation on first call. */
function gemPoolingClass(): LayerCtor {
  if (gemClass !== null) return gemClass;
  class GemPooling extends tf.layers.Layer {
    static readonly className = 'PulGemPooling';
    private readonly p0: number;
    private readonly learnable: boolean;
    private pWeight: tf.LayerVariable | null = null;

    constructor(args: GemOptions) {
      super(args.name === undefined ? {} : { name: args.name });
      this.p0 = args.p ?? 3;
      this.learnable = args.learnable ?? true;
    }

    override build(): void {
      this.pWeight = this.addWeight('p', [1], 'float32', tf.initializers.constant({ value: this.p0 }), undefined, this.learnable);
      this.built = true;
    }

    override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
      return [s[0] ?? null, s[3] ?? null];
    }

    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.tidy(() => {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
        const p = (this.pWeight as tf.LayerVariable).read();
        return gemPool(x, p);
      });
    }

    override getConfig(): tf.serialization.ConfigDict {
      return { ...super.getConfig(), p: this.p0, learnable: this.learnable };
    }
  }
  tf.serialization.registerClass(GemPooling);
  gemClass = GemPooling;
  return gemClass;
}

/** (mean over H, W of max(x, ε)^p)^(1/p) of an N×H×W×C map → N×C; `p` a scalar or a 1-element tensor. */
export function gemPool(x: tf.Tensor4D, p: tf.Tensor | number): tf.Tensor2D {
  return tf.tidy(() => {
    const pt = typeof p === 'number' ? tf.scalar(p) : p;
    return tf.pow<tf.Tensor2D>(tf.mean(tf.pow(tf.maximum(x, GEM_EPS), pt), [1, 2]), tf.div(1, pt));
  });
}

/**
 * A GeM pooling layer (N×H×W×C → N×C).
 *
 * @example
 * ```ts
 * const pooled = gemPooling({ p: 3, learnable: true }).apply(featureMap);
 * ```
 */
export function gemPooling(opts: GemOptions = {}): tf.layers.Layer {
  const p = opts.p ?? 3;
  if (!(p >= 1 && Number.isFinite(p))) throw new PulError('option.outOfRange', `GeM p=${p} must be a finite number ≥ 1`, { option: 'model.gemP' });
  const Gem = gemPoolingClass();
  return new Gem({ ...opts, p });
}

/** Registers pul's own layer classes with tfjs (idempotent): loading a model.json that names one needs it. */
export function registerPulLayers(): void {
  gemPoolingClass();
}
