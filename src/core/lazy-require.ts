/**
 * A CommonJS package loaded on its first use instead of at start-up, with require: commands that never
 * use it skip its load time (tfjs ~0.2 s, sharp and ml-matrix ~0.05 s each), and Node's ESM import of a
 * CommonJS package would first scan its source for export names.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A function returning the package, required on the first call; `init` runs once, after the load. */
export function lazyRequire<T>(specifier: string, init?: (loaded: T) => void): () => T {
  let loaded: T | undefined;
  return () => {
    if (loaded === undefined) {
      loaded = require(specifier) as T;
      init?.(loaded);
    }
    return loaded;
  };
}
