/**
 * The inference-mode forward of a network's embedder with every batch norm folded into the layer before
 * it. In inference BN is a per-channel affine map y = γ(x − μ)/√(σ² + ε) + β, so conv → BN → ReLU is one
 * convolution with weights W·s and bias β − μ·s (s = γ/√(σ² + ε)) and a fused ReLU: one FusedConv2D
 * instead of conv, batch norm and ReLU passes over the largest tensors of the net (on wasm ~35 % of the
 * fmnist forward). Dense → BN folds the same way. Only the forward of extraction uses it; the model, its
 * training and its checkpoints are unchanged. Features differ from the layers' path by float rounding.
 *
 * Covered: a plain chain (each layer fed by the one before) of Conv2D (channels last, no dilation),
 * BatchNormalization (last axis), ReLU, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten
 * and Dense (linear, ReLU or tanh). Any other graph (ResNets' additions, GeM, a pretrained backbone)
 * runs the layers' own inference path.
 */
import { tf } from '../backend/tf.js';

/** A forward pass images → embeddings (call inside tf.tidy), plus the folded weights to dispose. */
export interface InferenceForward {
  (x: tf.Tensor4D): tf.Tensor2D;
  /** True when batch norms were folded (false: the layers' own inference path). */
  readonly folded: boolean;
  /** Releases the folded weights (not the model's). */
  dispose(): void;
}

type Step = (x: tf.Tensor) => tf.Tensor;
type Activation = 'linear' | 'relu' | 'tanh';

/** The (untyped) configuration fields of tfjs-layers' layers that the folding reads. */
interface LayerFields {
  readonly kernel?: { read(): tf.Tensor };
  readonly bias?: { read(): tf.Tensor } | null;
  readonly useBias?: boolean;
  readonly activation?: { getClassName(): string };
  readonly strides?: number[];
  readonly padding?: string;
  readonly dataFormat?: string;
  readonly dilationRate?: number | number[];
  readonly poolSize?: number[];
  readonly axis?: number | number[];
  readonly epsilon?: number;
  readonly gamma?: { read(): tf.Tensor } | null;
  readonly beta?: { read(): tf.Tensor } | null;
  readonly movingMean?: { read(): tf.Tensor };
  readonly movingVariance?: { read(): tf.Tensor };
  readonly maxValue?: number | null;
}

/** A convolution or dense layer being assembled: its weights, bias and activation (BN and ReLU fold into it). */
interface Affine {
  readonly kind: 'conv' | 'dense';
  kernel: tf.Tensor;
  bias: tf.Tensor | null;
  activation: Activation;
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid';
}

const fields = (layer: tf.layers.Layer): LayerFields => layer as unknown as LayerFields;

function activationOf(layer: tf.layers.Layer): Activation | null {
  const name = fields(layer).activation?.getClassName().toLowerCase() ?? 'linear';
  return name === 'linear' || name === 'relu' || name === 'tanh' ? name : null;
}

function pair(v: number | number[] | undefined, fallback: number): [number, number] {
  if (v === undefined) return [fallback, fallback];
  return typeof v === 'number' ? [v, v] : [v[0] ?? fallback, v[1] ?? v[0] ?? fallback];
}

/** The layers from input to output when each one is fed only by the one before it; null otherwise. */
function chainOf(model: tf.LayersModel): tf.layers.Layer[] | null {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const layers = model.layers;
  for (let i = 1; i < layers.length; i++) {
    // one inbound node (a layer applied once), fed by the layer before
    const nodes = layers[i]!.inboundNodes;
    if (nodes.length !== 1 || nodes[0]!.inboundLayers.length !== 1 || nodes[0]!.inboundLayers[0] !== layers[i - 1]) return null;
  }
  return layers[layers.length - 1]!.output === model.outputs[0] ? layers : null;
}

/** Folds an inference-mode BN (last axis) into the affine layer before it; false when it cannot. */
function foldBatchNorm(into: Affine, layer: tf.layers.Layer, keep: tf.Tensor[]): boolean {
  const f = fields(layer);
  const axis = Array.isArray(f.axis) ? f.axis : [f.axis ?? -1];
  const rank = into.kind === 'conv' ? 4 : 2;
  if (into.activation !== 'linear' || axis.length !== 1 || !(axis[0] === -1 || axis[0] === rank - 1) || f.movingMean === undefined || f.movingVariance === undefined) return false;
  const scale = tf.tidy(() => tf.div(f.gamma ? f.gamma.read() : tf.onesLike(f.movingMean!.read()), tf.sqrt(tf.add(f.movingVariance!.read(), f.epsilon ?? 1e-3))));
  // per output channel: the kernel's last axis (HWIO for a convolution, in × out for a dense layer)
  const kernel = tf.mul(into.kernel, scale);
  const bias = tf.tidy(() => {
    const mean = f.movingMean!.read();
    const shifted = into.bias === null ? tf.neg(mean) : tf.sub(into.bias, mean);
    return tf.add(tf.mul(shifted, scale), f.beta ? f.beta.read() : tf.zerosLike(mean));
  });
  scale.dispose();
  keep.push(kernel, bias);
  into.kernel = kernel;
  into.bias = bias;
  return true;
}

function affineStep(a: Affine): Step {
  const { kernel, bias, activation, strides, padding } = a;
  const fused = activation === 'tanh' ? 'linear' : activation;
  const base: Step =
    a.kind === 'conv'
      ? (x) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: kernel as tf.Tensor4D, strides, pad: padding, ...(bias === null ? {} : { bias }), activation: fused })
      : (x) => tf.fused.matMul({ a: x, b: kernel, ...(bias === null ? {} : { bias }), activation: fused });
  return activation === 'tanh' ? (x) => tf.tanh(base(x)) : base;
}

/** The folded chain as steps; null when a layer is not covered. `keep` collects the tensors created. */
function foldedSteps(layers: readonly tf.layers.Layer[], keep: tf.Tensor[]): Step[] | null {
  const steps: Step[] = [];
  let open: Affine | null = null;
  const close = (): void => {
    if (open !== null) steps.push(affineStep(open));
    open = null;
  };
  for (const layer of layers) {
    const f = fields(layer);
    switch (layer.getClassName()) {
      case 'InputLayer':
        break;
      case 'Conv2D':
      case 'Dense': {
        const activation = activationOf(layer);
        const conv = layer.getClassName() === 'Conv2D';
        if (activation === null || f.kernel === undefined) return null;
        if (conv && ((f.dataFormat ?? 'channelsLast') !== 'channelsLast' || pair(f.dilationRate, 1).some((d) => d !== 1) || !(f.padding === 'same' || f.padding === 'valid'))) return null;
        close();
        open = { kind: conv ? 'conv' : 'dense', kernel: f.kernel.read(), bias: f.useBias && f.bias ? f.bias.read() : null, activation, strides: pair(f.strides, 1), padding: f.padding === 'valid' ? 'valid' : 'same' };
        break;
      }
      case 'BatchNormalization':
        if (open === null || !foldBatchNorm(open, layer, keep)) return null;
        break;
      case 'ReLU':
        if (f.maxValue !== undefined && f.maxValue !== null) return null;
        if (open !== null && open.activation === 'linear') open.activation = 'relu';
        else {
          close();
          steps.push((x) => tf.relu(x));
        }
        break;
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        if ((f.dataFormat ?? 'channelsLast') !== 'channelsLast') return null;
        close();
        const size = pair(f.poolSize, 2);
        const strides = pair(f.strides, size[0]);
        const pad = f.padding === 'same' ? 'same' : 'valid';
        const max = layer.getClassName() === 'MaxPooling2D';
        steps.push((x) => (max ? tf.maxPool(x as tf.Tensor4D, size, strides, pad) : tf.avgPool(x as tf.Tensor4D, size, strides, pad)));
        break;
      }
      case 'GlobalAveragePooling2D':
        if ((f.dataFormat ?? 'channelsLast') !== 'channelsLast') return null;
        close();
        steps.push((x) => tf.mean(x, [1, 2]));
        break;
      case 'Flatten':
        close();
        steps.push((x) => tf.reshape(x, [x.shape[0], -1]));
        break;
      default:
        return null;
    }
  }
  close();
  return steps;
}

/**
 * The embedder's inference forward, batch norms folded when the graph allows (see the file's comment).
 * Dispose it when done; the model must outlive it.
 *
 * @example
 * ```ts
 * const forward = inferenceForward(model.embedder);
 * const emb = tf.tidy(() => forward(images));
 * forward.dispose();
 * ```
 */
export function inferenceForward(embedder: tf.LayersModel, { fold = process.env['PUL_FOLD_BN'] !== '0' }: { fold?: boolean } = {}): InferenceForward {
  const keep: tf.Tensor[] = [];
  const chain = fold ? chainOf(embedder) : null;
  const steps = chain === null ? null : foldedSteps(chain, keep);
  if (steps === null) {
    tf.dispose(keep);
    // the whole batch in one call (predict's default splits it into batches of 32)
    const layersPath = (x: tf.Tensor4D): tf.Tensor2D => embedder.predict(x, { batchSize: x.shape[0] }) as tf.Tensor2D;
    return Object.assign(layersPath, { folded: false, dispose: () => undefined });
  }
  const run = (x: tf.Tensor4D): tf.Tensor2D => steps.reduce<tf.Tensor>((h, step) => step(h), x) as tf.Tensor2D;
  return Object.assign(run, { folded: true, dispose: () => tf.dispose(keep) });
}
