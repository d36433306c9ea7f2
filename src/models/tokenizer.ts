import { Tokenizer } from '@huggingface/tokenizers';
import { byteTokenizer } from './byteTokenizer';

/** What the runner needs from a tokenizer: ids for the prompt, and a visible label for any id it shows. */
export interface ModelTokenizer {
  encode(text: string): number[];
  /** Short, unambiguous text for token strips, attention-map axes and the predictions table. */
  tokenLabel(id: number): string;
  /**
   * The words of the text, as the tokenizer splits and normalises them, that its vocabulary does not have: each is
   * read as the unknown token. Without one (byte-level vocabularies have every byte) nothing is unknown.
   */
  unknownWords(text: string): string[];
}

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

/**
 * A classifier reads no text: its output ids are its labels. Encoding text is an error the UI shows as is.
 */
export function labelTokenizer(labels: readonly string[]): ModelTokenizer {
  return {
    encode(text) {
      if (text.trim() === '') return [];
      throw new TokenizerError('this model classifies an image and reads no text');
    },
    tokenLabel: (id) => labels[id] ?? `<class ${id}>`,
    unknownWords: () => [],
  };
}

/**
 * A model's `tokenizer.json` (with its optional `tokenizer_config.json`) through Hugging Face's tokenizers.js, so
 * BPE, WordPiece and Unigram vocabularies behave exactly as in Python. Models without one read raw UTF-8 bytes.
 */
export function createTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, vocabSize: number): ModelTokenizer {
  if (tokenizerJson === undefined) {
    if (vocabSize < 256) throw new TokenizerError(`the model has no tokenizer.json, and its vocab_size ${vocabSize} is too small for the 256-byte fallback`);
    return byteTokenizer;
  }
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson as object, (tokenizerConfig ?? {}) as object);
  } catch (error) {
    throw new TokenizerError(`tokenizer.json could not be read (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  // An id past the embedding table would make the engine read outside the wte buffer.
  let largestId = -1;
  for (const id of tokenizer.get_vocab(true).values()) largestId = Math.max(largestId, id);
  if (largestId >= vocabSize) {
    throw new TokenizerError(`tokenizer.json has token ids up to ${largestId}, but config.json's vocab_size is ${vocabSize}`);
  }
  return {
    encode: (text) => tokenizer.encode(text).ids,
    tokenLabel(id) {
      // Decoding shows what the token means (GPT-2's "Ġworld" is " world"); a token that is part of a multi-byte
      // character decodes to U+FFFD, so its vocabulary entry is the better label.
      const text = tokenizer.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      if (text !== '' && !text.includes('\uFFFD')) return text.replaceAll(' ', '␠').replaceAll('\n', '⏎');
      return tokenizer.id_to_token(id) ?? `<id ${id}>`;
    },
    unknownWords: (text) => unknownWords(tokenizer, text),
  };
}

/**
 * Splits the text as encode does before the vocabulary model runs (normaliser, then pre-tokeniser) and keeps the
 * pieces the model maps to its unknown token, once each: a WordLevel vocabulary (shapes-vqa's 37 words) turns a
 * word it lacks into `<unk>` without a trace, and the user should know which word the model never saw.
 */
function unknownWords(tokenizer: Tokenizer, text: string): string[] {
  const { model, normalizer, pre_tokenizer: preTokenizer } = tokenizer;
  const unknownId = model?.unk_token_id;
  if (!model || unknownId === undefined) return [];
  const normalized = normalizer ? normalizer.normalize(text) : text;
  const words = preTokenizer ? preTokenizer.pre_tokenize(normalized) : [normalized];
  const unknown = words.filter((word) => model.encode([word]).some((token) => (model.tokens_to_ids.get(token) ?? unknownId) === unknownId));
  return [...new Set(unknown)];
}
