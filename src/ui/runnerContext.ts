import { createContext, useContext } from 'react';
import type { Runner } from '../runtime/runner';

/** The engine, once the capability gate has started it; null while starting or when WebGPU is unavailable. */
export const RunnerContext = createContext<Runner | null>(null);

export function useRunner(): Runner | null {
  return useContext(RunnerContext);
}
