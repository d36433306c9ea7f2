import { describe, expect, it } from 'vitest';
import { byteTokenizer, decodeToken, encode } from './byteTokenizer';

describe('byte tokenizer', () => {
  it('encodes text as its UTF-8 bytes', () => {
    expect(encode('Hi!')).toEqual([72, 105, 33]);
    expect(encode('é€')).toEqual([0xc3, 0xa9, 0xe2, 0x82, 0xac]);
    expect(encode('')).toEqual([]);
  });

  it('shows printable ASCII as itself and makes whitespace and other bytes visible', () => {
    expect(decodeToken(65)).toBe('A');
    expect(decodeToken(0x21)).toBe('!');
    expect(decodeToken(0x7e)).toBe('~');
    expect(decodeToken(0x20)).toBe('␠');
    expect(decodeToken(0x0a)).toBe('⏎');
    expect(decodeToken(0x09)).toBe('<0x09>');
    expect(decodeToken(0x7f)).toBe('<0x7F>');
    expect(decodeToken(0xc3)).toBe('<0xC3>');
    expect(decodeToken(0)).toBe('<0x00>');
  });

  it('rejects ids outside the byte vocabulary', () => {
    for (const id of [-1, 256, 1.5, NaN]) expect(() => decodeToken(id)).toThrow(RangeError);
  });

  it('labels a token sequence', () => {
    expect(byteTokenizer.encode('a b\né').map(byteTokenizer.tokenLabel)).toEqual(['a', '␠', 'b', '⏎', '<0xC3>', '<0xA9>']);
  });
});
