import { attentionDropout } from './attentionDropout/attentionDropout';
import { dhsa } from './dhsa/dhsa';
import { fastv } from './fastv/fastv';
import { sale } from './sale/sale';
import { slidingWindow } from './slidingWindow/slidingWindow';
import type { Technique } from './types';

/** Every technique the playground offers, in the order the plan applies them and the UI lists them. */
export const techniques: readonly Technique[] = [slidingWindow, sale, dhsa, fastv, attentionDropout];

export function techniqueById(id: string): Technique | undefined {
  return techniques.find((t) => t.id === id);
}
