import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

/** A folder-per-identity set with query and gallery splits: 3 identities × 2 cameras, 28×28 grey squares of different brightness. */
export async function writeReidImages(root: string): Promise<void> {
  for (const [split, cam] of [['query', 1], ['gallery', 2]] as const) {
    for (const pid of [1, 2, 3]) {
      const dir = path.join(root, split, String(pid));
      await mkdir(dir, { recursive: true });
      for (const k of [0, 1]) {
        const level = 40 + pid * 60 + k * 5 + cam;
        await sharp({ create: { width: 28, height: 28, channels: 3, background: { r: level, g: level, b: level } } }).png().toFile(path.join(dir, `${pid}_c${cam}_${k}.png`));
      }
    }
  }
}
