import type { BackendInfo } from './select-backend.js';

const ISA_LABELS: Record<string, string> = { avx512: 'AVX-512', avx2: 'AVX2/FMA', scalar: 'portable' };

/** A human-readable account of the backend choice, as `pul info` prints it. */
export function describeBackend(info: BackendInfo): string {
  const lines = [`backend: ${info.backend} (tfjs '${info.tfjsBackend}', requested: ${info.requested})`];
  for (const attempt of info.attempts) {
    if (!attempt.loaded) lines.push(`  ${attempt.backend}: not used — ${attempt.reason ?? 'unknown'}`);
  }
  lines.push(`tfjs: ${info.tfjsVersion}`);
  if (info.wasmSimd !== null) lines.push(`wasm: SIMD ${info.wasmSimd ? 'on' : 'off'}, threads ${info.wasmThreads ?? 1}`);
  lines.push(`CPUs: ${info.cpuCount}`);
  if (info.native !== null) {
    lines.push(
      info.native.loaded
        ? `native kernels: on (${ISA_LABELS[info.native.isa ?? ''] ?? 'portable'} GEMM${info.native.isaForced ? ', set by PUL_ISA' : ''}, ${info.native.threads ?? 1} threads)`
        : `native kernels: off — ${info.native.reason ?? 'unknown'}`,
    );
  }
  if (info.pulKernels.length > 0) lines.push(`pul kernels: ${info.pulKernels.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
