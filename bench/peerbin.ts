/** Reader of the peers' PEERBIN1 files (layout in ../shared/peers/README.md). */
import { readFileSync } from 'node:fs';

export interface PeerArray {
  readonly dtype: 'float32' | 'float64' | 'int32' | 'int64' | 'uint8';
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

export function readPeerbin(file: string): { meta: Record<string, unknown>; arrays: Record<string, PeerArray> } {
  const buf = readFileSync(file);
  if (buf.subarray(0, 8).toString('latin1') !== 'PEERBIN1') throw new Error(`${file} is not a PEERBIN1 file`);
  const headerLength = buf.readUInt32LE(8);
  const header = JSON.parse(buf.subarray(12, 12 + headerLength).toString('utf8')) as {
    meta: Record<string, unknown>;
    arrays: { name: string; dtype: PeerArray['dtype']; shape: number[]; offset: number; nbytes: number }[];
  };
  const ctor = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array } as const;
  const arrays: Record<string, PeerArray> = {};
  for (const a of header.arrays) {
    const C = ctor[a.dtype];
    // copy: the file buffer's offset need not be aligned for the typed array
    const bytes = buf.subarray(a.offset, a.offset + a.nbytes);
    const data = new C(a.nbytes / C.BYTES_PER_ELEMENT);
    new Uint8Array(data.buffer).set(bytes);
    arrays[a.name] = { dtype: a.dtype, shape: a.shape, data };
  }
  return { meta: header.meta, arrays };
}
