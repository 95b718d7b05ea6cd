/**
 * The built-in demo set: procedurally drawn pedestrians in Market-1501 layout, so pul runs end to
 * end with no download. Identity lives in clothing colours and patterns, body proportions, hair and
 * bags; each camera has its own background, illumination, colour cast, noise and blur, and every
 * image jitters viewpoint (front/back/side), position, scale and stride — identity is learnable,
 * camera shift is real. A labelled `source` domain and a `target` domain with disjoint identities
 * and different cameras (the domain-adaptation setting of PUL).
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Sharp from 'sharp';
import { lazyRequire } from '../core/lazy-require.js';
import { PulError } from '../core/errors.js';
import { commitOutputDir, legacyFiles, prepareOutput } from '../core/output-dir.js';
import { Rng, deriveSeed } from '../core/random.js';

const sharp = lazyRequire<typeof Sharp>('sharp');

/** Options of generateSyntheticReid; defaults give ~1 000 images per domain at 128×64. */
export interface SyntheticReidOptions {
  /** Output folder; receives source/ and target/, each a Market-1501 layout, and contact-sheet.png. */
  readonly out: string;
  /** Identities per split (train and test each) per domain (default 50). */
  readonly ids?: number;
  /** Cameras per domain (default 4). */
  readonly cams?: number;
  /** Train images per identity per camera it appears in (default 3). */
  readonly perCam?: number;
  /** Gallery images per test identity per camera (default 2); plus one query per camera. */
  readonly galleryPerCam?: number;
  /** Image height × width (default 128 × 64, Market-1501's size). */
  readonly height?: number;
  readonly width?: number;
  readonly seed?: number;
  /** Replace a demo set pul generated earlier at `out` (never a folder with other files). */
  readonly force?: boolean;
  /** How the caller names `out` in errors (default '--out'). */
  readonly option?: string;
}

/** What was written. */
export interface SyntheticReidReport {
  readonly out: string;
  readonly images: number;
  readonly domains: Readonly<Record<'source' | 'target', { readonly root: string; readonly train: number; readonly query: number; readonly gallery: number }>>;
  readonly contactSheet: string;
}

type Rgb = readonly [number, number, number];

const CLOTHES: readonly Rgb[] = [
  [25, 25, 28], [235, 235, 230], [128, 128, 128], [30, 40, 90], [40, 90, 200], [120, 170, 225], [200, 30, 35],
  [110, 20, 30], [40, 140, 60], [100, 110, 50], [235, 205, 40], [240, 130, 30], [240, 140, 180], [110, 50, 150],
  [110, 70, 40], [210, 190, 150], [30, 140, 140],
];
const SKIN: readonly Rgb[] = [[245, 210, 180], [225, 180, 140], [190, 140, 100], [140, 95, 65], [95, 65, 45]];
const HAIR: readonly Rgb[] = [[20, 15, 10], [70, 45, 25], [140, 100, 50], [210, 180, 110], [150, 150, 150], [120, 40, 20]];

type Pattern = 'solid' | 'hstripes' | 'vsplit' | 'logo' | 'jacket';
const PATTERNS: readonly Pattern[] = ['solid', 'solid', 'hstripes', 'vsplit', 'logo', 'jacket'];

interface Identity {
  readonly upper: Rgb;
  readonly upper2: Rgb;
  readonly pattern: Pattern;
  readonly lower: Rgb;
  readonly lowerKind: 'trousers' | 'shorts' | 'skirt';
  readonly shortSleeves: boolean;
  readonly skin: Rgb;
  readonly hair: Rgb;
  readonly longHair: boolean;
  readonly shoes: Rgb;
  readonly bag: 'none' | 'backpack' | 'shoulder' | 'hand';
  readonly bagColor: Rgb;
  readonly widthFactor: number;
  readonly heightFactor: number;
  readonly legRatio: number;
}

interface Camera {
  readonly gain: number;
  readonly cast: Rgb;
  readonly wall: Rgb;
  readonly floor: Rgb;
  readonly horizon: number;
  readonly pillars: readonly { readonly x: number; readonly w: number; readonly color: Rgb }[];
  readonly blur: number;
  readonly noise: number;
  readonly scale: number;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)] as T;
}

function makeIdentity(rng: Rng): Identity {
  const upper = pick(rng, CLOTHES);
  let lower = pick(rng, CLOTHES);
  if (lower === upper && rng.next() < 0.7) lower = pick(rng, CLOTHES);
  const bagRoll = rng.next();
  const lowerRoll = rng.next();
  return {
    upper,
    upper2: pick(rng, CLOTHES),
    pattern: pick(rng, PATTERNS),
    lower,
    lowerKind: lowerRoll < 0.65 ? 'trousers' : lowerRoll < 0.85 ? 'shorts' : 'skirt',
    shortSleeves: rng.next() < 0.35,
    skin: pick(rng, SKIN),
    hair: pick(rng, HAIR),
    longHair: rng.next() < 0.35,
    shoes: pick(rng, [[20, 20, 20], [240, 240, 240], [90, 60, 40], [40, 60, 120]] as const),
    bag: bagRoll < 0.4 ? 'none' : bagRoll < 0.65 ? 'backpack' : bagRoll < 0.85 ? 'shoulder' : 'hand',
    bagColor: pick(rng, CLOTHES),
    widthFactor: rng.uniform(0.8, 1.2),
    heightFactor: rng.uniform(0.9, 1.0),
    legRatio: rng.uniform(0.44, 0.52),
  };
}

function makeCamera(rng: Rng, domain: 'source' | 'target'): Camera {
  const tone = (lo: number, hi: number): Rgb => {
    // muted colours (towards their grey), as walls and floors are
    const grey = rng.uniform(lo, hi);
    const sat = rng.uniform(0.15, 0.5);
    return [0, 1, 2].map(() => grey + sat * (rng.uniform(lo, hi) - grey)) as unknown as Rgb;
  };
  // the target domain is darker and bluer overall, the source warmer: a real domain gap
  const domainCast: Rgb = domain === 'source' ? [1.05, 1.0, 0.92] : [0.9, 0.97, 1.1];
  const cast = tone(0.88, 1.12);
  const pillars = Array.from({ length: rng.int(4) }, () => ({ x: rng.uniform(-0.1, 1), w: rng.uniform(0.05, 0.25), color: tone(40, 220) }));
  return {
    gain: domain === 'source' ? rng.uniform(0.8, 1.2) : rng.uniform(0.6, 1.05),
    cast: [cast[0] * domainCast[0], cast[1] * domainCast[1], cast[2] * domainCast[2]],
    wall: tone(60, 220),
    floor: tone(50, 170),
    horizon: rng.uniform(0.55, 0.8),
    pillars,
    blur: rng.uniform(0.3, 1.1),
    noise: rng.uniform(2, 10),
    scale: rng.uniform(0.82, 1.0),
  };
}

/** A raster being drawn: H×W RGB floats 0–255. */
class Canvas {
  readonly data: Float32Array;
  constructor(readonly h: number, readonly w: number) {
    this.data = new Float32Array(h * w * 3);
  }
  rect(x0: number, y0: number, x1: number, y1: number, c: Rgb, shade = true): void {
    const xa = Math.max(0, Math.round(x0));
    const xb = Math.min(this.w, Math.round(x1));
    const ya = Math.max(0, Math.round(y0));
    const yb = Math.min(this.h, Math.round(y1));
    const mid = (x0 + x1) / 2;
    const half = Math.max(1, (x1 - x0) / 2);
    for (let y = ya; y < yb; y++) {
      for (let x = xa; x < xb; x++) {
        // cylindrical shading: darker towards the sides of a body part
        const f = shade ? 1 - 0.28 * ((x + 0.5 - mid) / half) ** 2 : 1;
        const o = (y * this.w + x) * 3;
        this.data[o] = c[0] * f;
        this.data[o + 1] = c[1] * f;
        this.data[o + 2] = c[2] * f;
      }
    }
  }
  ellipse(cx: number, cy: number, rx: number, ry: number, c: Rgb, yMax = Infinity): void {
    for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(this.h, Math.ceil(cy + ry), yMax); y++) {
      for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(this.w, Math.ceil(cx + rx)); x++) {
        const dx = (x + 0.5 - cx) / rx;
        const dy = (y + 0.5 - cy) / ry;
        if (dx * dx + dy * dy > 1) continue;
        const f = 1 - 0.25 * dx * dx;
        const o = (y * this.w + x) * 3;
        this.data[o] = c[0] * f;
        this.data[o + 1] = c[1] * f;
        this.data[o + 2] = c[2] * f;
      }
    }
  }
  /** A trapezoid with horizontal top and bottom (skirts). */
  trapezoid(cx: number, y0: number, y1: number, topHalf: number, bottomHalf: number, c: Rgb): void {
    for (let y = Math.max(0, Math.round(y0)); y < Math.min(this.h, Math.round(y1)); y++) {
      const t = (y - y0) / Math.max(1, y1 - y0);
      const half = topHalf + (bottomHalf - topHalf) * t;
      this.rect(cx - half, y, cx + half, y + 1, c);
    }
  }
}

type View = 'front' | 'back' | 'left' | 'right';

function drawBackground(cv: Canvas, cam: Camera, rng: Rng): void {
  const hz = cam.horizon * cv.h + rng.uniform(-4, 4);
  const pan = rng.uniform(-0.08, 0.08) * cv.w;
  cv.rect(0, 0, cv.w, hz, cam.wall, false);
  cv.rect(0, hz, cv.w, cv.h, cam.floor, false);
  for (const p of cam.pillars) cv.rect(p.x * cv.w + pan, 0, (p.x + p.w) * cv.w + pan, hz, p.color, false);
  // floor gets lighter towards the camera
  for (let y = Math.max(0, Math.round(hz)); y < cv.h; y++) {
    const f = 0.85 + 0.3 * ((y - hz) / Math.max(1, cv.h - hz));
    for (let i = y * cv.w * 3; i < (y + 1) * cv.w * 3; i++) cv.data[i] = (cv.data[i] ?? 0) * f;
  }
}

function drawPerson(cv: Canvas, id: Identity, cam: Camera, rng: Rng): void {
  const view: View = pick(rng, ['front', 'back', 'left', 'right'] as const);
  const side = view === 'left' || view === 'right';
  const hp = cv.h * cam.scale * id.heightFactor * rng.uniform(0.88, 1.0);
  const top = (cv.h - hp) * rng.uniform(0.2, 0.8);
  const cx = cv.w / 2 + rng.uniform(-0.1, 0.1) * cv.w;
  const u = hp; // one person-height unit in pixels
  const shoulder = 0.13 * u * id.widthFactor * (side ? 0.62 : 1);
  const headR = 0.062 * u;
  const headCy = top + headR * 1.1;
  const torsoTop = top + 0.135 * u;
  const hip = top + (1 - id.legRatio) * u;
  const foot = top + 0.965 * u;
  const stride = side ? rng.uniform(0, 0.07) * u : rng.uniform(0, 0.02) * u;
  const bagSide = view === 'left' ? -1 : 1;

  // behind the body: backpack from the front/side, long hair from the back is drawn later
  if (id.bag === 'backpack' && view !== 'back') {
    const bx = side ? cx - bagSide * shoulder * 1.6 : cx;
    const bw = side ? shoulder * 0.9 : shoulder * 1.05;
    if (side || view === 'front') cv.rect(bx - bw, torsoTop + 0.02 * u, bx + bw, torsoTop + 0.26 * u, id.bagColor);
  }
  // legs
  const legW = 0.045 * u * id.widthFactor;
  const legX = side ? [cx - stride, cx + stride] : [cx - shoulder * 0.45, cx + shoulder * 0.45];
  for (const lx of legX) {
    const ankle = foot - 0.03 * u;
    if (id.lowerKind === 'trousers') cv.rect(lx - legW, hip, lx + legW, ankle, id.lower);
    else {
      cv.rect(lx - legW * 0.8, hip, lx + legW * 0.8, ankle, id.skin);
      if (id.lowerKind === 'shorts') cv.rect(lx - legW * 1.1, hip, lx + legW * 1.1, hip + 0.17 * u, id.lower);
    }
    cv.rect(lx - legW * 1.1 + (side ? bagSide * legW * 0.5 : 0), ankle, lx + legW * 1.1 + (side ? bagSide * legW * 0.5 : 0), foot + 0.01 * u, id.shoes);
  }
  if (id.lowerKind === 'skirt') cv.trapezoid(cx, hip - 0.02 * u, hip + 0.2 * u, shoulder * 0.8, shoulder * 1.25, id.lower);
  else cv.rect(cx - shoulder * 0.85, hip - 0.02 * u, cx + shoulder * 0.85, hip + 0.05 * u, id.lower); // pelvis

  // torso and its pattern
  const torsoBottom = hip + 0.01 * u;
  cv.rect(cx - shoulder, torsoTop, cx + shoulder, torsoBottom, id.upper);
  const th = torsoBottom - torsoTop;
  switch (id.pattern) {
    case 'hstripes':
      for (let k = 1; k < 6; k += 2) cv.rect(cx - shoulder, torsoTop + (k * th) / 6, cx + shoulder, torsoTop + ((k + 1) * th) / 6, id.upper2);
      break;
    case 'vsplit':
      if (!side) cv.rect(cx, torsoTop, cx + shoulder, torsoBottom, id.upper2);
      else cv.rect(cx - shoulder, torsoTop + th * 0.5, cx + shoulder, torsoBottom, id.upper2);
      break;
    case 'logo':
      if (view === 'front') cv.rect(cx - shoulder * 0.45, torsoTop + th * 0.25, cx + shoulder * 0.45, torsoTop + th * 0.55, id.upper2);
      break;
    case 'jacket':
      if (view === 'front') cv.rect(cx - shoulder * 0.25, torsoTop, cx + shoulder * 0.25, torsoBottom, id.upper2);
      break;
    case 'solid':
      break;
  }
  // arms (one in side view), swinging with the stride
  const armW = 0.035 * u * id.widthFactor;
  const armTop = torsoTop + 0.01 * u;
  const armBottom = torsoTop + 0.33 * u;
  const arms = side ? [cx + stride * 0.6] : [cx - shoulder - armW, cx + shoulder + armW];
  for (const ax of arms) {
    const sleeveEnd = id.shortSleeves ? armTop + 0.1 * u : armBottom - 0.03 * u;
    cv.rect(ax - armW, armTop, ax + armW, sleeveEnd, id.upper);
    cv.rect(ax - armW * 0.85, sleeveEnd, ax + armW * 0.85, armBottom, id.skin);
  }
  // bags in front of the body
  if (id.bag === 'backpack' && view === 'back') cv.rect(cx - shoulder * 0.8, torsoTop + 0.03 * u, cx + shoulder * 0.8, torsoTop + 0.27 * u, id.bagColor);
  if (id.bag === 'shoulder') {
    const bx = side ? cx + bagSide * shoulder * 0.3 : cx + shoulder * 1.05;
    cv.rect(bx - 0.06 * u, hip - 0.09 * u, bx + 0.06 * u, hip + 0.04 * u, id.bagColor);
    for (let t = 0; t < 1; t += 0.05) {
      const sx = cx - shoulder * 0.7 + (bx - cx + shoulder * 0.7) * t;
      const sy = torsoTop + (hip - 0.09 * u - torsoTop) * t;
      cv.rect(sx - 1, sy, sx + 1, sy + 2, [30, 30, 30], false);
    }
  }
  if (id.bag === 'hand') {
    const hx = side ? cx + stride * 0.6 : cx + shoulder + armW;
    cv.rect(hx - 0.055 * u, armBottom, hx + 0.055 * u, armBottom + 0.12 * u, id.bagColor);
  }
  // head: face from the front, hair everywhere else; neck
  cv.rect(cx - headR * 0.4, headCy + headR * 0.7, cx + headR * 0.4, torsoTop + 0.01 * u, id.skin);
  if (id.longHair && view !== 'front') cv.rect(cx - headR * 1.05, headCy, cx + headR * 1.05, torsoTop + 0.1 * u, id.hair);
  cv.ellipse(cx, headCy, headR * 0.95, headR * 1.1, view === 'back' ? id.hair : id.skin);
  cv.ellipse(cx, headCy - headR * 0.25, headR * 1.0, headR * 0.9, id.hair, headCy - headR * (view === 'front' ? 0.35 : -0.1));
  if (id.longHair && view === 'front') {
    cv.rect(cx - headR * 1.1, headCy - headR * 0.3, cx - headR * 0.75, torsoTop + 0.08 * u, id.hair);
    cv.rect(cx + headR * 0.75, headCy - headR * 0.3, cx + headR * 1.1, torsoTop + 0.08 * u, id.hair);
  }
}

/** Renders one image: background, person, then the camera's light, colour cast and sensor noise. */
function renderImage(id: Identity, cam: Camera, rng: Rng, h: number, w: number): Uint8Array {
  const cv = new Canvas(h, w);
  drawBackground(cv, cam, rng);
  drawPerson(cv, id, cam, rng);
  const gain = cam.gain * rng.uniform(0.9, 1.1);
  const out = new Uint8Array(h * w * 3);
  for (let i = 0; i < out.length; i++) {
    const v = (cv.data[i] ?? 0) * gain * (cam.cast[i % 3] ?? 1) + cam.noise * rng.normal();
    out[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  }
  return out;
}

function positiveInt(name: string, value: number, max: number): number {
  if (!(Number.isInteger(value) && value >= 1 && value <= max)) {
    throw new PulError('option.outOfRange', `${name}=${value} must be an integer in [1, ${max}]`, { option: `synthetic.${name}` });
  }
  return value;
}

/**
 * Writes the synthetic re-ID set (deterministic under `seed`): `out/source` and `out/target`, each
 * with bounding_box_train/, query/ and bounding_box_test/ in Market-1501 naming, plus
 * `out/contact-sheet.png` (a few images of the first identities, one row per identity).
 *
 * @example
 * ```ts
 * const report = await generateSyntheticReid({ out: 'datasets/demo', ids: 50, cams: 4, seed: 1 });
 * const source = await loadDataset(report.domains.source.root);
 * ```
 */
export async function generateSyntheticReid(opts: SyntheticReidOptions): Promise<SyntheticReidReport> {
  const { ids, cams, perCam, galleryPerCam, height: h, width: w, seed } = syntheticParameters(opts);
  const out = path.resolve(opts.out);
  const prepared = await prepareOutput(out, {
    kind: 'synthetic',
    command: 'pul datasets synth',
    option: opts.option ?? '--out',
    mode: 'replace',
    force: opts.force ?? false,
    legacy: legacyFiles('synthetic', ['source', 'target', 'contact-sheet.png']),
  });
  const counts = { source: { train: 0, query: 0, gallery: 0 }, target: { train: 0, query: 0, gallery: 0 } };
  const sheet: Promise<Buffer>[][] = []; // the first 6 identities of each domain
  await commitOutputDir(prepared, async (tmp) => {
    const writes: Promise<unknown>[] = [];
    const flush = async (): Promise<void> => {
      await Promise.all(writes.splice(0));
    };
    for (const [d, domain] of (['source', 'target'] as const).entries()) {
      const camRng = new Rng(deriveSeed(seed, d, 0x5eed));
      const cameras = Array.from({ length: cams }, () => makeCamera(camRng, domain));
      for (const folder of ['bounding_box_train', 'query', 'bounding_box_test']) await mkdir(path.join(tmp, domain, folder), { recursive: true });
      let frame = 0;
      // source pids 1…2N, target pids 2N+1…4N: the two domains share no identity
      for (let k = 0; k < 2 * ids; k++) {
        const pid = d * 2 * ids + k + 1;
        const id = makeIdentity(new Rng(deriveSeed(seed, d, pid)));
        const isTrain = k < ids;
        for (const c of camerasOf(seed, d, pid, cams)) {
          const plan: [string, 'train' | 'query' | 'gallery'][] = isTrain
            ? Array.from({ length: perCam }, () => ['bounding_box_train', 'train'])
            : [['query', 'query'], ...Array.from({ length: galleryPerCam }, (): [string, 'gallery'] => ['bounding_box_test', 'gallery'])];
          for (const [j, [folder, split]] of plan.entries()) {
            const rng = new Rng(deriveSeed(seed, d, pid, c, j));
            const raw = renderImage(id, cameras[c]!, rng, h, w);
            frame++;
            const name = `${String(pid).padStart(4, '0')}_c${c + 1}s1_${String(frame).padStart(6, '0')}_${String(j + 1).padStart(2, '0')}.jpg`;
            const blur = cameras[c]!.blur * rng.uniform(0.8, 1.2);
            const jpeg = sharp()(raw, { raw: { width: w, height: h, channels: 3 } }).blur(Math.max(0.3, blur)).jpeg({ quality: 90 }).toBuffer();
            writes.push(jpeg.then((buf) => writeFile(path.join(tmp, domain, folder, name), buf)));
            if (k < 6) (sheet[d * 6 + k] ??= []).push(jpeg);
            counts[domain][split]++;
            if (writes.length >= 32) await flush();
          }
        }
      }
      await flush();
    }
    await writeContactSheet(await Promise.all(sheet.filter(Boolean).map((row) => Promise.all(row))), h, w, path.join(tmp, 'contact-sheet.png'));
  });
  const domainReport = (domain: 'source' | 'target') => ({ root: path.join(out, domain), ...counts[domain] });
  const images = Object.values(counts).reduce((a, c) => a + c.train + c.query + c.gallery, 0);
  return { out, images, domains: { source: domainReport('source'), target: domainReport('target') }, contactSheet: path.join(out, 'contact-sheet.png') };
}

/** The validated generator parameters, defaults filled in. */
function syntheticParameters(opts: Omit<SyntheticReidOptions, 'out'>): { ids: number; cams: number; perCam: number; galleryPerCam: number; height: number; width: number; seed: number } {
  const ids = positiveInt('ids', opts.ids ?? 50, 4999);
  const cams = positiveInt('cams', opts.cams ?? 4, 9);
  if (cams < 2) throw new PulError('option.outOfRange', `cams=${cams}: re-ID needs at least 2 cameras`, { option: 'synthetic.cams' });
  const perCam = positiveInt('perCam', opts.perCam ?? 3, 100);
  const galleryPerCam = positiveInt('galleryPerCam', opts.galleryPerCam ?? 2, 100);
  return { ids, cams, perCam, galleryPerCam, height: positiveInt('height', opts.height ?? 128, 1024), width: positiveInt('width', opts.width ?? 64, 1024), seed: opts.seed ?? 0 };
}

/** The cameras (0-based, sorted) that identity `pid` of domain `d` passes: 2…C of them. */
function camerasOf(seed: number, d: number, pid: number, cams: number): number[] {
  const visRng = new Rng(deriveSeed(seed, d, pid, 0xca3));
  return visRng.shuffle(Array.from({ length: cams }, (_, c) => c)).slice(0, 2 + visRng.int(cams - 1)).sort((a, b) => a - b);
}

/**
 * The images per domain and split that generateSyntheticReid would write with these options, without
 * drawing any: a pipeline checks K against the target before generating the demo set.
 */
export function syntheticReidCounts(opts: Omit<SyntheticReidOptions, 'out'>): Record<'source' | 'target', { train: number; query: number; gallery: number }> {
  const { ids, cams, perCam, galleryPerCam, seed } = syntheticParameters(opts);
  const counts = { source: { train: 0, query: 0, gallery: 0 }, target: { train: 0, query: 0, gallery: 0 } };
  for (const [d, domain] of (['source', 'target'] as const).entries()) {
    for (let k = 0; k < 2 * ids; k++) {
      const seen = camerasOf(seed, d, d * 2 * ids + k + 1, cams).length;
      if (k < ids) counts[domain].train += seen * perCam;
      else {
        counts[domain].query += seen;
        counts[domain].gallery += seen * galleryPerCam;
      }
    }
  }
  return counts;
}

/**
 * Returns the demo set at `opts.out`, generating it on first use (when `out/source` and `out/target`
 * are not both there). A pipeline calls this before loading `out/source` / `out/target`.
 */
export async function ensureSyntheticReid(opts: SyntheticReidOptions): Promise<{ readonly source: string; readonly target: string; readonly generated: boolean }> {
  const out = path.resolve(opts.out);
  const source = path.join(out, 'source');
  const target = path.join(out, 'target');
  const present = await Promise.all([source, target].map((d) => stat(d).then((s) => s.isDirectory(), () => false)));
  if (present.every(Boolean)) return { source, target, generated: false };
  // force: an incomplete set pul generated is replaced; a folder with other files is still refused
  await generateSyntheticReid({ ...opts, force: true });
  return { source, target, generated: true };
}

/** Tiles rows of encoded images (one row per identity, up to 8 per row) into one PNG. */
export async function writeContactSheet(rows: readonly (readonly Buffer[])[], h: number, w: number, file: string): Promise<void> {
  const cols = Math.max(1, Math.min(8, ...rows.map((r) => r.length)));
  const composites = rows.flatMap((row, r) => row.slice(0, cols).map((input, c) => ({ input, left: c * (w + 2), top: r * (h + 2) })));
  await sharp()({ create: { width: cols * (w + 2), height: Math.max(1, rows.length) * (h + 2), channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(composites)
    .png()
    .toFile(file);
}
