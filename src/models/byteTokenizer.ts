/**
 * The tiny models' tokenizer: one token per UTF-8 byte, so the vocabulary is exactly the ids 0..255. A character
 * outside ASCII becomes several tokens, each shown by its byte value.
 */

import type { ModelTokenizer } from './tokenizer';

export const BYTE_VOCAB_SIZE = 256;

const utf8 = new TextEncoder();

export function encode(text: string): number[] {
  return Array.from(utf8.encode(text));
}

/** A label for one token that stays visible and unambiguous in token strips and attention-map axes. */
export function decodeToken(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id >= BYTE_VOCAB_SIZE) {
    throw new RangeError(`token id ${id} is outside the byte vocabulary 0..${BYTE_VOCAB_SIZE - 1}`);
  }
  if (id === 0x20) return '␠';
  if (id === 0x0a) return '⏎';
  if (id > 0x20 && id < 0x7f) return String.fromCharCode(id);
  return `<0x${id.toString(16).toUpperCase().padStart(2, '0')}>`;
}

// Every byte is a token, so no text has unknown words.
export const byteTokenizer: ModelTokenizer = { encode, tokenLabel: decodeToken, unknownWords: () => [] };
