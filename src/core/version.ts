import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function findPackageVersion(): string {
  // Works both from src/ (tests via tsc output in dist/src) and from an installed package.
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'pul' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}

/** pul's own version, recorded in checkpoints and printed by `pul --version`. */
export const PACKAGE_VERSION = findPackageVersion();
