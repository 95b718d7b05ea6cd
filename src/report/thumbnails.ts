/**
 * Small inlined thumbnails (data URIs), so a report page shows its images with no network and keeps
 * working when its folder is copied elsewhere. Each image is encoded once, however many lists show it.
 */
import type Sharp from 'sharp';
import { lazyRequire } from '../core/lazy-require.js';
import { ImageReader } from '../datasets/images.js';

const sharp = lazyRequire<typeof Sharp>('sharp');

/** Thumbnail height in pixels (Market-1501's 128 × 64 images become 64 × 32). */
export const THUMBNAIL_HEIGHT = 64;

/** Image paths → thumbnail ids, in the order first asked for; `render` encodes them all. */
export class ThumbnailSet {
  private readonly ids = new Map<string, number>();
  readonly paths: string[] = [];

  /** The id of `path`'s thumbnail (added when new). */
  id(path: string): number {
    let id = this.ids.get(path);
    if (id === undefined) {
      id = this.paths.length;
      this.ids.set(path, id);
      this.paths.push(path);
    }
    return id;
  }

  /** Every thumbnail as a JPEG data URI (PNG for grey IDX images), in id order. */
  async render(reader = new ImageReader(), height = THUMBNAIL_HEIGHT): Promise<string[]> {
    const out = new Array<string>(this.paths.length);
    let next = 0;
    // a few in flight: sharp works on its own threads, the reads overlap
    const worker = async () => {
      while (next < this.paths.length) {
        const i = next++;
        out[i] = await thumbnail(reader, this.paths[i]!, height);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    return out;
  }
}

/** One image, `height` pixels high, as a data URI; the width keeps the aspect ratio. */
export async function thumbnail(reader: ImageReader, path: string, height = THUMBNAIL_HEIGHT): Promise<string> {
  const size = await reader.size(path);
  const channels = size.channels === 1 ? 1 : 3;
  // never enlarged: a 28 × 28 IDX image stays 28 px high
  height = Math.min(height, size.height);
  const width = Math.max(1, Math.round((height * size.width) / size.height));
  const pixels = await reader.readBytes(path, { height, width, channels });
  const image = sharp()(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels } });
  const encoded = channels === 1 ? await image.png().toBuffer() : await image.jpeg({ quality: 80 }).toBuffer();
  return `data:image/${channels === 1 ? 'png' : 'jpeg'};base64,${encoded.toString('base64')}`;
}
