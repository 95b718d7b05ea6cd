/**
 * Synthetic re-ID embeddings with the neighbour structure of a trained model's features, for the
 * index benchmark. Random identity centres plus isotropic noise (the earlier generator) are too easy:
 * in 256 dimensions every identity is far from every other, so HNSW recall and mAP both come out 1.0.
 * Here, as in real features:
 * - identities lie on a low-dimensional manifold (`latent` dimensions mapped into `dim`), so many of them
 *   are close to each other;
 * - each camera shifts every image it sees (a camera's domain), so different people from one camera can
 *   be nearer than one person seen from two cameras;
 * - each (identity, camera) pair is a tracklet: its frames are near-duplicates of each other;
 * - each image has its own noise, mostly along the manifold, a little across it.
 * The defaults give an exact mAP near 0.6 on the Market-sized case (a decent trained model's level).
 */
import { featureMatrix, type FeatureMatrix, type IndexRow, type Rng } from '../src/index.js';

/**
 * Standard deviations relative to the identity centres' spread (variance 1 per dimension): a camera's
 * shift per dimension, a tracklet's and a frame's along the manifold, a frame's across it.
 */
const CAMERA_SHIFT = 0.5;
const TRACKLET = 0.55;
const FRAME = 0.3;
const ACROSS = 0.08;

export interface GalleryShape {
  readonly ids: number;
  readonly cameras: number;
  readonly dim: number;
  /** Manifold dimensions (default 32). */
  readonly latent?: number;
  /** Each identity appears in this many cameras at most (default 4; at least 2). */
  readonly camerasPerId?: number;
}

/** A world of identities, cameras and tracklets that gallery and query sets are both drawn from. */
export class ReidWorld {
  private readonly latent: number;
  private readonly basis: Float32Array;
  private readonly centres: Float32Array;
  private readonly cameraShift: Float32Array;
  private readonly tracklets = new Map<number, Float32Array>();
  private readonly idCameras: number[][];

  constructor(
    private readonly rng: Rng,
    readonly shape: GalleryShape,
  ) {
    const { ids, cameras, dim } = shape;
    const latent = (this.latent = shape.latent ?? 32);
    this.basis = Float32Array.from({ length: dim * latent }, () => rng.normal() / Math.sqrt(latent));
    this.centres = Float32Array.from({ length: (ids + 1) * latent }, () => rng.normal());
    this.cameraShift = Float32Array.from({ length: (cameras + 1) * dim }, () => CAMERA_SHIFT * rng.normal());
    const most = Math.max(2, Math.min(cameras, shape.camerasPerId ?? 4));
    this.idCameras = Array.from({ length: ids + 1 }, () => {
      const order = Array.from({ length: cameras }, (_, c) => 1 + c).sort(() => rng.next() - 0.5);
      return order.slice(0, 2 + rng.int(most - 1));
    });
  }

  /** The shift along the manifold shared by one tracklet's frames. */
  private tracklet(pid: number, camera: number): Float32Array {
    const key = pid * 1000 + camera;
    let t = this.tracklets.get(key);
    if (t === undefined) {
      t = Float32Array.from({ length: this.latent }, () => TRACKLET * this.rng.normal());
      this.tracklets.set(key, t);
    }
    return t;
  }

  /** `rows` images of identities drawn uniformly from [1, ids], cameras among each identity's own. */
  sample(rows: number, prefix: string): { features: FeatureMatrix; index: IndexRow[] } {
    const { dim, ids } = this.shape;
    const latent = this.latent;
    const data = new Float32Array(rows * dim);
    const index: IndexRow[] = [];
    const z = new Float32Array(latent);
    for (let i = 0; i < rows; i++) {
      const pid = 1 + this.rng.int(ids);
      const cams = this.idCameras[pid]!;
      const camid = cams[this.rng.int(cams.length)]!;
      const t = this.tracklet(pid, camid);
      for (let k = 0; k < latent; k++) z[k] = this.centres[pid * latent + k]! + t[k]! + FRAME * this.rng.normal();
      for (let d = 0; d < dim; d++) {
        let v = this.cameraShift[camid * dim + d]! + ACROSS * this.rng.normal();
        for (let k = 0; k < latent; k++) v += this.basis[d * latent + k]! * z[k]!;
        data[i * dim + d] = v;
      }
      index.push({ path: `${prefix}/${i}.jpg`, pid, camid });
    }
    return { features: featureMatrix(rows, dim, data), index };
  }
}
