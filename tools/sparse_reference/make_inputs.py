"""Writes src/techniques/__fixtures__/recall-lm-needle-qkv.{bin,json} (format: that folder's README.md).

The first needle item of public/models/recall-lm/eval.json with length 256; the sequence is its prompt + answer
(256 tokens, the answer's characters included, as the eval scores it in one forward pass). The .bin is every
layer's c_attn output under common.py's own GPT-2 forward (float32), little-endian [layers, T, 3C].

    /usr/bin/python3 tools/sparse_reference/make_inputs.py
"""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

LENGTH = 256


def main():
    items = common.eval_items()
    index = next(i for i, item in enumerate(items) if item['task'] == 'needle' and item['length'] == LENGTH)
    item = items[index]
    text = item['prompt'] + item['answer']
    qkv, ids = common.recall_lm_qkv(text)
    layers, heads, head_dim = common.model_shape()
    assert qkv.shape == (layers, LENGTH, 3 * heads * head_dim), qkv.shape

    # The forward must answer the item: greedy argmax at the answer positions.
    with torch.no_grad():
        logits, _ = common.recall_lm_forward(ids)
    start = len(item['prompt'])
    predicted = logits[start - 1:LENGTH - 1].argmax(dim=1).tolist()
    assert predicted == ids[start:], (predicted, ids[start:])

    common.FIXTURES.mkdir(parents=True, exist_ok=True)
    raw = qkv.contiguous().to(torch.float32).numpy().astype('<f4').tobytes()
    (common.FIXTURES / 'recall-lm-needle-qkv.bin').write_bytes(raw)
    meta = {'prompt': text, 'ids': ids, 'tokens': LENGTH, 'layers': layers, 'heads': heads, 'headDim': head_dim,
            'source': f'public/models/recall-lm/eval.json items[{index}] (needle, length {LENGTH}, depth '
                      f'{item["depth"]}): prompt + answer "{item["answer"]}"'}
    (common.FIXTURES / 'recall-lm-needle-qkv.json').write_text(json.dumps(meta, ensure_ascii=False) + '\n')
    print(f'wrote recall-lm-needle-qkv.bin ({len(raw)} bytes) and .json: items[{index}], T={LENGTH}, '
          f'answer {item["answer"]!r} predicted correctly')


if __name__ == '__main__':
    main()
