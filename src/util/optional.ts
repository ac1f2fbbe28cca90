import { MissingDependencyError } from '../errors';

/**
 * Loads an optional dependency (a training-only package such as @tensorflow/tfjs) at the
 * moment it is needed. The specifier goes through a variable on purpose: bundlers then leave
 * the import alone, so an app that only loads a model and recommends ships none of it, and an
 * install without the package works until something actually needs it. A missing package is
 * a MissingDependencyError naming the package and what needs it.
 */
export async function loadOptional<T>(pkg: string, neededBy: string): Promise<T> {
  const specifier = pkg;
  try {
    return (await import(/* @vite-ignore */ specifier)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to resolve module specifier/.test(String((e as Error).message));
    if (missing) throw new MissingDependencyError(pkg, neededBy);
    throw e;
  }
}
