/**
 * Downloaded model files, kept so a second visit loads from disk. The browser's Cache API holds them, keyed by the
 * full URL (hub revision included; bundled files also by their manifest hash, so a retrained model is never served
 * stale). When the browser refuses to store a file (quota exceeded, or no Cache API at all), it is kept in memory for
 * the rest of the visit and the caller is told why, so the model still loads.
 */

const MODEL_CACHE_NAME = 'sparsity-playground-models-v1';

/** The part of the Cache API this module uses, so tests can hand in a small fake. */
export type DiskCache = Pick<Cache, 'match' | 'put'>;

export type CachePutResult = { storedIn: 'disk' } | { storedIn: 'memory'; reason: string };

export interface ModelFileCache {
  match(key: string): Promise<Response | undefined>;
  put(key: string, bytes: ArrayBuffer): Promise<CachePutResult>;
}

/** The page's model cache; memory only where the Cache API is missing (an insecure context, or Node). */
export async function openModelCache(storage: CacheStorage | undefined = globalThis.caches): Promise<ModelFileCache> {
  if (!storage) return createModelFileCache(null, 'this page cannot use the browser cache (it needs https or localhost)');
  try {
    return createModelFileCache(await storage.open(MODEL_CACHE_NAME));
  } catch (error) {
    // Private windows of some browsers refuse to open caches at all.
    return createModelFileCache(null, `the browser refused to open its cache (${describe(error)})`);
  }
}

export function createModelFileCache(disk: DiskCache | null, whyNoDisk = 'no disk cache'): ModelFileCache {
  const memory = new Map<string, ArrayBuffer>();
  const inMemory = (key: string, bytes: ArrayBuffer, reason: string): CachePutResult => {
    memory.set(key, bytes);
    return { storedIn: 'memory', reason };
  };
  return {
    async match(key) {
      const kept = memory.get(key);
      if (kept) return withLength(kept);
      return disk?.match(key);
    },
    async put(key, bytes) {
      if (!disk) return inMemory(key, bytes, whyNoDisk);
      try {
        await disk.put(key, withLength(bytes));
        return { storedIn: 'disk' };
      } catch (error) {
        const reason = isQuotaExceeded(error)
          ? 'the browser storage quota is exceeded (free some space in the site settings to keep models between visits)'
          : `the browser cache refused it (${describe(error)})`;
        return inMemory(key, bytes, reason);
      }
    },
  };
}

/** With Content-Length, a cache hit reports download progress like a network response does. */
function withLength(bytes: ArrayBuffer): Response {
  return new Response(bytes, { headers: { 'Content-Length': String(bytes.byteLength) } });
}

function isQuotaExceeded(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'QuotaExceededError';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
