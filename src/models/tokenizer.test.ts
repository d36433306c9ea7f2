import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { byteTokenizer } from './byteTokenizer';
import { createTokenizer, labelTokenizer, TokenizerError } from './tokenizer';
import { charTokenizerJson } from './tokenizer.testutil';

/** A GPT-2-style byte-level BPE in miniature: "Ġ" stands for a space, "Ċ" for a newline, merges build "Ġworld". */
function byteLevelTokenizerJson(): object {
  const tokens = [...'abcdefghijklmnopqrstuvwxyz', 'Ġ', 'Ċ', 'Ã', '©', 'Ġw', 'Ġwo', 'Ġwor', 'Ġworl', 'Ġworld'];
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false,
      vocab: Object.fromEntries(tokens.map((token, id) => [token, id])),
      merges: ['Ġ w', 'Ġw o', 'Ġwo r', 'Ġwor l', 'Ġworl d'],
    },
  };
}

describe('createTokenizer', () => {
  it('falls back to UTF-8 bytes without a tokenizer.json, if the vocabulary has room for them', () => {
    expect(createTokenizer(undefined, undefined, 256)).toBe(byteTokenizer);
    expect(() => createTokenizer(undefined, undefined, 70)).toThrow(TokenizerError);
    expect(() => createTokenizer(undefined, undefined, 70)).toThrow(/no tokenizer\.json, and its vocab_size 70 is too small for the 256-byte fallback/);
  });

  it('reads a character-level BPE with no merges (the recall-lm tokenizer)', () => {
    const tokenizer = createTokenizer(charTokenizerJson(), { unk_token: '<unk>', clean_up_tokenization_spaces: false }, 29);
    expect(tokenizer.encode('hi there\nz')).toEqual([8, 9, 27, 20, 8, 5, 18, 5, 28, 26]);
    expect(tokenizer.encode('A')).toEqual([0]); // outside the vocabulary: <unk>
    expect([8, 27, 28, 0].map(tokenizer.tokenLabel)).toEqual(['h', '␠', '⏎', '<unk>']);
  });

  it('labels byte-level BPE tokens by what they decode to, and partial characters by their vocabulary entry', () => {
    const tokenizer = createTokenizer(byteLevelTokenizerJson(), undefined, 35);
    const ids = tokenizer.encode('hi world\né');
    expect(ids.map(tokenizer.tokenLabel)).toEqual(['h', 'i', '␠world', '⏎', 'Ã', '©']);
  });

  it('refuses token ids past the model vocabulary, and files tokenizers.js cannot read', () => {
    expect(() => createTokenizer(charTokenizerJson(), undefined, 20)).toThrow(/token ids up to 28, but config\.json's vocab_size is 20/);
    expect(() => createTokenizer({ model: { type: 'BPE' } }, undefined, 100)).toThrow(/tokenizer\.json could not be read/);
  });
});

describe('words outside the vocabulary', () => {
  const bundledJson = (file: string): unknown => JSON.parse(readFileSync(new URL(`../../public/models/shapes-vqa/${file}`, import.meta.url), 'utf8'));

  it("names the words shapes-vqa's WordLevel vocabulary reads as <unk>, as its normaliser writes them, once each", () => {
    const tokenizer = createTokenizer(bundledJson('tokenizer.json'), bundledJson('tokenizer_config.json'), 37);
    const question = 'Is there a big Bird? bird ?';
    expect(tokenizer.encode(question)).toEqual([5, 9, 10, 1, 1, 2, 1, 2]);
    expect(tokenizer.tokenLabel(1)).toBe('<unk>');
    expect(tokenizer.unknownWords(question)).toEqual(['big', 'bird']);
    expect(tokenizer.unknownWords('what color is the square ?')).toEqual([]);
    expect(tokenizer.unknownWords('')).toEqual([]);
  });

  it('splits as the tokenizer does: without a pre-tokeniser the whole text is one piece', () => {
    const tokenizer = createTokenizer(charTokenizerJson(), { unk_token: '<unk>' }, 29);
    expect(tokenizer.unknownWords('hi there')).toEqual([]);
    expect(tokenizer.unknownWords('hi There')).toEqual(['hi There']);
  });

  it('finds none where every input is in the vocabulary or no text is read', () => {
    expect(createTokenizer(byteLevelTokenizerJson(), undefined, 35).unknownWords('hello world')).toEqual([]);
    expect(byteTokenizer.unknownWords('ünïcödé')).toEqual([]);
    expect(labelTokenizer(['cat']).unknownWords('dog')).toEqual([]);
  });
});
