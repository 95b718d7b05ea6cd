/** A model's embeddings of some samples as a feature folder (features + index rows, same order). */
import type { ProgressSink } from '../core/progress.js';
import type { Sample } from '../datasets/sample.js';
import type { ReidModel } from '../model/build-model.js';
import { extractFeatures, type ExtractOptions } from './extract-features.js';
import type { FeatureFolder } from './features-npy.js';

/**
 * @example
 * ```ts
 * const folder = await extractFeatureFolder(model, samplesOf(dataset, 'query'));
 * await writeFeatureFolder('features/query', folder);
 * ```
 */
export async function extractFeatureFolder(
  model: ReidModel,
  samples: readonly Sample[],
  opts: ExtractOptions = {},
  ctx: { readonly signal?: AbortSignal; readonly progress?: ProgressSink } = {},
): Promise<FeatureFolder> {
  const features = await extractFeatures(model, samples, opts, ctx);
  const index = samples.map((s) => ({ path: s.path, pid: s.pid, camid: s.camid, split: s.split }));
  return { features, index };
}
