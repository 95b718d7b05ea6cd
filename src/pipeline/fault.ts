/**
 * Fault injection for the crash tests: when the environment variable PUL_FAULT names a point the
 * pipeline passes (e.g. `train:round-1:epoch-1`, `cluster:round-1`), the process kills itself with
 * SIGKILL there — as a power cut or `kill -9` would, with no chance to clean up.
 */
export function faultPoint(name: string): void {
  if (process.env['PUL_FAULT'] === name) process.kill(process.pid, 'SIGKILL');
}
