/**
 * zod for pul's schemas (configs, checkpoint manifests, run state), loaded with require on first use: its
 * CommonJS build loads in about half the time of its ES modules, and a command that parses no config,
 * checkpoint or run state (pul info, cluster, eval on features, --help) does not load it, nor build the
 * schemas (together ~0.2 s of every start): they are declared with {@link lazySchema}.
 */
import type * as Zod from 'zod';
import { lazyRequire } from './lazy-require.js';

/** Key under which a lazy stand-in hands out the value itself. */
const TARGET = Symbol('lazy target');

/** A stand-in for the value `build()` returns, built on the first use of any of its properties. */
function lazyValue<T extends object>(build: () => T): T {
  let target: T | undefined;
  const get = (): T => (target ??= build());
  return new Proxy({} as T, {
    get: (_, key) => {
      if (key === TARGET) return get();
      const value: unknown = Reflect.get(get(), key);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(get()) : value;
    },
    has: (_, key) => Reflect.has(get(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(get()),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(get(), key);
      return d === undefined ? undefined : { ...d, configurable: true };
    },
  });
}

const loadZod = lazyRequire<typeof Zod>('zod');
export const z: typeof Zod.z = lazyValue(() => loadZod().z);

/** The schema behind a {@link lazySchema} stand-in (zod's registry of descriptions knows that one, not the stand-in). */
export function builtSchema<T extends object>(schema: T): T {
  return ((schema as Record<symbol, unknown>)[TARGET] as T | undefined) ?? schema;
}

/**
 * A schema declared at module level but built (and zod loaded) when first used: `lazySchema(() => z.object(…))`.
 * It parses like the schema; for z.toJSONSchema pass {@link builtSchema}(it), and nest it with a method call
 * (`.optional()`, `.describe(…)`) when its own description should reach the JSON Schema.
 */
export function lazySchema<T extends object>(build: () => T): T {
  return lazyValue(build);
}

/** The zod types pul names as `z.X` (the value above carries none); types only, merged with it. */
// eslint-disable-next-line @typescript-eslint/no-namespace -- a type-only namespace, merged with the value above
export declare namespace z {
  export type input<T> = Zod.z.input<T>;
  export type output<T> = Zod.z.output<T>;
}
