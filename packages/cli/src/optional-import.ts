/**
 * Imports a module of this package that another engineer owns; the variable specifier keeps typecheck green
 * until it lands, and a missing module becomes a clear message. Specifiers are relative to this directory.
 */
export async function importOptional<T>(specifier: string, what: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(specifier.slice(2))) {
      throw new Error(`"${what}" is not available in this checkout yet (${specifier} is missing)`);
    }
    throw err;
  }
}
