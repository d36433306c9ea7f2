/**
 * A tokenizer.json like the one tools/train_recall_lm.py writes: a BPE with no merges over single characters, so
 * text tokenises character by character. Ids: <unk> 0, a–z 1–26, space 27, newline 28, then filler up to `size`.
 */
export function charTokenizerJson(size = 29): object {
  const characters = [...'abcdefghijklmnopqrstuvwxyz', ' ', '\n'];
  const filler = Array.from({ length: Math.max(0, size - 1 - characters.length) }, (_, i) => `<filler${i}>`);
  const vocab = Object.fromEntries(['<unk>', ...characters, ...filler].map((token, id) => [token, id]));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
  };
}
