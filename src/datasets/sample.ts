/**
 * The plain data that flows out of the dataset loaders: one Sample per image (PROTOCOLS.md
 * "Dataset layouts"), grouped in a Dataset. No pixels here: images are decoded on demand (images.ts).
 */

/** Which part of a benchmark a sample belongs to. */
export type Split = 'train' | 'query' | 'gallery';

/** Every split, in report order. */
export const SPLITS: readonly Split[] = ['train', 'query', 'gallery'];

/**
 * One image. `path` is absolute; for IDX data it names an image inside the IDX file as
 * `<images file>#<index>` (e.g. `/x/train-images-idx3-ubyte.gz#123`, index counted from 0).
 * `pid` is the identity (0 = Market-1501 distractor), `null` when unlabelled; `camid` the camera.
 */
export interface Sample {
  readonly path: string;
  readonly pid: number | null;
  readonly camid: number;
  readonly split: Split;
}

/** The largest pid or camid: they are stored in Int32Arrays (labels, assignments, evaluation). */
export const MAX_ID = 2 ** 31 - 1;

/** The layouts pul reads (datasets/README.md). */
export type DatasetFormat = 'market1501' | 'msmt17' | 'csv' | 'idx' | 'folder';

/** Every format, in detection order. */
export const DATASET_FORMATS: readonly DatasetFormat[] = ['market1501', 'msmt17', 'csv', 'idx', 'folder'];

/** A loaded dataset: the samples of every split found, in a stable (sorted) order. */
export interface Dataset {
  readonly name: string;
  readonly root: string;
  readonly format: DatasetFormat;
  readonly samples: readonly Sample[];
  /** Files that looked like images but were ignored by the layout's rules (e.g. junk pid -1). */
  readonly junk: number;
}

/** The samples of one split, in dataset order. */
export function samplesOf(dataset: Dataset, split: Split): Sample[] {
  return dataset.samples.filter((s) => s.split === split);
}

/**
 * The labelled images outside the training split (query + gallery, in dataset order): the held-out
 * set of the all-vs-all retrieval protocol (Fashion-MNIST: the t10k images of the classes kept).
 */
export function heldOutSamples(dataset: Dataset): Sample[] {
  return dataset.samples.filter((s) => s.split !== 'train' && s.pid !== null);
}

/** Splits an IDX sample path `file#index` into its parts; `undefined` for an ordinary image file. */
export function parseIdxRef(path: string): { readonly file: string; readonly index: number } | undefined {
  const hash = path.lastIndexOf('#');
  if (hash < 0) return undefined;
  const tail = path.slice(hash + 1);
  if (!/^\d+$/.test(tail)) return undefined;
  return { file: path.slice(0, hash), index: Number(tail) };
}
