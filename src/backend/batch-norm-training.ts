/**
 * Batch norm in training mode through pul's fused native kernel (kernels/batch-norm-training.ts). In
 * training, tfjs-layers' BatchNormalization runs moments (mean, x − mean, square, mean), batchNorm, then
 * six small ops for the moving averages, and the ReLU layer after it one more pass; their gradients as
 * many again. That was 45 % of the reference nets' training forward on wasm.
 *
 * Installed once (registerPulKernels, wasm with the native kernels) on tfjs-layers' BatchNormalization and
 * ReLU classes, so every network — pul's, a loaded checkpoint, a benchmark's — trains through it with its
 * layers, names and weights unchanged. A training-mode call of a BatchNormalization layer takes the fused
 * kernel when the active backend is wasm, x is float32 with the channels last and the layer has both
 * scale and offset; the same statistics (biased batch variance, as tfjs's moments), the same ε and the
 * same float32 moving-average update come out. Anything else (inference, other backends, other axes)
 * runs the layer's own code. When the layer's only consumer is a plain ReLU layer (one inbound, one
 * outbound node), the kernel applies the ReLU too and that ReLU layer passes the rectified tensor on: a
 * graph that also outputs such a BN layer's own (pre-ReLU) result is not supported in training mode.
 * PUL_FUSED_BN=0 turns it off (tfjs-layers' path, for comparisons).
 */
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { tf } from './tf.js';
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL, type BatchNormTrainingAttrs } from './kernels/batch-norm-training.js';

/** What the hook reads of tfjs-layers' LayerVariable. */
interface LayerVariable {
  read(): tf.Tensor;
  write(value: tf.Tensor): unknown;
}

/** The (untyped) fields of tfjs-layers' BatchNormalization the hook reads. */
interface BatchNormLayer {
  readonly axis: number;
  readonly epsilon: number;
  readonly momentum: number;
  readonly gamma?: LayerVariable;
  readonly beta?: LayerVariable;
  readonly movingMean: LayerVariable;
  readonly movingVariance: LayerVariable;
  readonly inboundNodes: readonly unknown[];
  readonly outboundNodes: readonly { readonly outboundLayer: unknown }[];
}

type Call = (this: unknown, inputs: Tensor | Tensor[], kwargs?: Record<string, unknown>) => Tensor | Tensor[];
interface LayerClass {
  readonly prototype: { call: Call };
}

let enabled = process.env['PUL_FUSED_BN'] !== '0';
let installed = false;
/** Outputs of the fused kernel that are already ReLU'd: the ReLU layer after them passes them on. */
const rectified = new WeakSet<Tensor>();

/** Turns the fused path on or off (tests and benchmarks compare it with tfjs-layers' own). */
export function setFusedBatchNorm(on: boolean): void {
  enabled = on;
}

function layerClass(name: string): LayerClass {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[name];
  if (entry === undefined) throw new Error(`tfjs-layers has no ${name} class`);
  return entry[0];
}

const single = (inputs: Tensor | Tensor[]): Tensor | undefined => (Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs);

function fusable(layer: BatchNormLayer, x: Tensor): boolean {
  if (!enabled || tf.getBackend() !== 'wasm' || tf.getKernel(BATCH_NORM_TRAINING_KERNEL, 'wasm') === undefined) return false;
  if (x.dtype !== 'float32' || x.rank < 2 || layer.gamma === undefined || layer.beta === undefined) return false;
  const axis = layer.axis < 0 ? layer.axis + x.rank : layer.axis;
  const channels = x.shape[x.rank - 1];
  const perChannel = (v: LayerVariable) => {
    const t = v.read();
    return t.dtype === 'float32' && t.size === channels;
  };
  return axis === x.rank - 1 && [layer.gamma, layer.beta, layer.movingMean, layer.movingVariance].every(perChannel);
}

/** True when the layer's output goes to one plain ReLU layer and nowhere else. */
function feedsOnlyRelu(layer: BatchNormLayer, relu: LayerClass): boolean {
  const next = layer.outboundNodes.length === 1 ? (layer.outboundNodes[0]!.outboundLayer as { maxValue?: number | null }) : null;
  return layer.inboundNodes.length === 1 && next !== null && next instanceof (relu as unknown as new () => object) && next.maxValue == null;
}

/** y of the fused kernel, after writing the layer's moving statistics. */
function trainingCall(layer: BatchNormLayer, x: Tensor, relu: boolean): Tensor {
  return tf.tidy(() => {
    const attrs: BatchNormTrainingAttrs = { varianceEpsilon: layer.epsilon, momentum: layer.momentum, relu };
    const inputs = { x, scale: layer.gamma!.read(), offset: layer.beta!.read(), movingMean: layer.movingMean.read(), movingVariance: layer.movingVariance.read() };
    const [y, , , movingMean, movingVariance] = tf.engine().runKernel<Tensor[]>(BATCH_NORM_TRAINING_KERNEL, inputs, attrs as unknown as NamedAttrMap);
    layer.movingMean.write(movingMean!);
    layer.movingVariance.write(movingVariance!);
    if (relu) rectified.add(y!);
    return y!;
  });
}

/**
 * The gradient of the fused kernel's y (its statistics outputs only feed the moving averages, which no
 * loss sees, so they carry none).
 */
function registerGradient(): void {
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING_KERNEL,
    inputsToSave: ['x', 'scale', 'offset'],
    outputsToSave: [false, true, true, false, false],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x, scale, offset, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
      const dyY = Array.isArray(dy) ? dy[0]! : dy;
      // Run once, eagerly: the engine calls each closure below in its own tidy scope (batch-norm-gradient.ts).
      const outputs = tf.engine().runKernel<Tensor[]>(BATCH_NORM_TRAINING_GRAD_KERNEL, { x, dy: dyY, scale, offset, mean, variance }, attrs);
      return {
        x: () => outputs[0]!,
        scale: () => outputs[1]!,
        offset: () => outputs[2]!,
        movingMean: () => tf.zerosLike(scale),
        movingVariance: () => tf.zerosLike(scale),
      };
    },
  });
}

/** Hooks BatchNormalization and ReLU (once); the kernels must be registered for wasm. */
export function installFusedBatchNorm(): void {
  if (installed) return;
  installed = true;
  registerGradient();
  const batchNorm = layerClass('BatchNormalization');
  const relu = layerClass('ReLU');
  const batchNormCall = batchNorm.prototype.call;
  batchNorm.prototype.call = function (this: unknown, inputs, kwargs) {
    const layer = this as BatchNormLayer;
    const x = single(inputs);
    if (!kwargs?.['training'] || x === undefined || !fusable(layer, x)) return batchNormCall.call(this, inputs, kwargs);
    return trainingCall(layer, x, feedsOnlyRelu(layer, relu));
  };
  const reluCall = relu.prototype.call;
  relu.prototype.call = function (this: unknown, inputs, kwargs) {
    const x = single(inputs);
    // relu(relu(z)) = relu(z): the fused kernel's rectified output passes through (Layer.apply shares it)
    if (x !== undefined && rectified.has(x) && (this as { maxValue?: number | null }).maxValue == null) return x;
    return reluCall.call(this, inputs, kwargs);
  };
}
