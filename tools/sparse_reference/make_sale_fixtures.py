"""Write the SALE golden fixtures, src/techniques/sale/__fixtures__/*.json, with tools/sparse_reference/sale.py.

    /usr/bin/python3 tools/sparse_reference/make_sale_fixtures.py

Needs src/techniques/__fixtures__/recall-lm-needle-qkv.{bin,json} (make_inputs.py) and, for the calibrated case,
public/models/recall-lm/calibration/sale.json (sale.py calibrate). Each fixture:
  input        {"kind": "random", seed, tokens, heads, headDim, qScale} | {"kind": "recall-lm", "layer"}
  params       {"tau": number | number[per head], "mode": "two-pass" | "one-pass"} (denseBelow 64 throughout)
  keyBlocks    [head][16-row query tile] ascending key blocks: reference region ∪ kept, none wholly after the tile
  forced       [head][tile] the reference region alone (sink, local band, diagonal), same trimming
  density      [head] useful kept pairs / causal pairs
  outputRows   common.output_rows(T); output: base64 float32 [rows, C], exact attention over keyBlocks
  thresholds   base64 float64 [heads, rows of outputRows]: step 5's t_i (NaN where a row's block has no middle
               region; one-pass: the value before the first segment)
  margin       [head] smallest |max_i (max_j ŝ_ij − t_i)| over the block decisions (how far from a tie)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import sale  # noqa: E402

OUT = common.REPO / 'src' / 'techniques' / 'sale' / '__fixtures__'

RANDOM_CASES = [
    ('random-t1024-h2-d16-two-pass', dict(seed=7, tokens=1024, heads=2, headDim=16, qScale=4), 0.004, 'two-pass'),
    ('random-t1024-h2-d16-one-pass', dict(seed=7, tokens=1024, heads=2, headDim=16, qScale=4), 0.004, 'one-pass'),
    ('random-t1000-h2-d32-two-pass', dict(seed=11, tokens=1000, heads=2, headDim=32, qScale=6), [0.008, 0.001],
     'two-pass'),
    # Uniform random Q, K keep every block at tau <= 0.03 (each 32x16 block has some pair near its row's max), so
    # the three cases above only test the geometry; these two make the estimate and the threshold decide.
    ('random-t1024-h2-d16-tau0.2-two-pass', dict(seed=7, tokens=1024, heads=2, headDim=16, qScale=4), 0.2,
     'two-pass'),
    ('random-t1024-h2-d16-tau0.2-one-pass', dict(seed=7, tokens=1024, heads=2, headDim=16, qScale=4), 0.2,
     'one-pass'),
]
RECALL_CASES = [
    ('recall-lm-needle-layer1-two-pass', 1, 0.004, 'two-pass'),
    ('recall-lm-needle-layer0-one-pass-calibrated', 0, 'calibrated', 'one-pass'),
]


def b64_f64(array):
    import base64
    import struct
    flat = torch.as_tensor(array, dtype=torch.float64).contiguous().reshape(-1).tolist()
    return base64.b64encode(struct.pack(f'<{len(flat)}d', *flat)).decode('ascii')


def fixture(input_desc, params, result, tokens):
    rows = common.output_rows(tokens)
    return {
        'definition': 'src/techniques/sale/ALGORITHM.md; written by tools/sparse_reference/make_sale_fixtures.py',
        'input': input_desc,
        'params': params,
        'keyBlocks': result['keyBlocks'],
        'forced': result['forced'],
        'density': result['density'],
        'margin': result['margin'],
        'outputRows': rows,
        'output': common.b64_f32(result['output'][rows]),
        'thresholds': b64_f64(result['thresholds'][:, rows]),
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    report = []
    for name, inp, tau, mode in RANDOM_CASES:
        qkv = common.random_qkv(inp['seed'], inp['tokens'], inp['heads'], inp['headDim'], inp['qScale'])
        result = sale.sale_layer(qkv, inp['heads'], tau, mode)
        params = {'tau': tau, 'mode': mode}
        size = common.write_json(OUT / f'{name}.json', fixture({'kind': 'random', **inp}, params, result,
                                                                qkv.shape[0]))
        report.append((name, qkv.shape[0], params, result, size))

    needle = common.FIXTURES / 'recall-lm-needle-qkv.bin'
    if not needle.exists():
        sys.exit(f'{needle} is missing: run tools/sparse_reference/make_inputs.py first')
    qkv_layers, meta = common.load_needle_qkv()
    heads = meta['heads']
    for name, layer, tau, mode in RECALL_CASES:
        if tau == 'calibrated':
            if not sale.CALIBRATION_PATH.exists():
                sys.exit(f'{sale.CALIBRATION_PATH} is missing: run tools/sparse_reference/sale.py calibrate first')
            tau = sale.load_calibration()['tau'][layer]
        result = sale.sale_layer(qkv_layers[layer], heads, tau, mode)
        params = {'tau': tau, 'mode': mode}
        size = common.write_json(OUT / f'{name}.json', fixture({'kind': 'recall-lm', 'layer': layer}, params,
                                                                result, qkv_layers[layer].shape[0]))
        report.append((name, qkv_layers[layer].shape[0], params, result, size))

    print(f'{"fixture":44s} {"T":>5s} {"mode":>8s} {"bytes":>7s}  density per head (smallest margin)')
    for name, tokens, params, result, size in report:
        per_head = ', '.join(f'{d:.4f} ({m:.2g})' for d, m in zip(result['density'], result['margin']))
        print(f'{name:44s} {tokens:5d} {params["mode"]:>8s} {size:7d}  {per_head}')


if __name__ == '__main__':
    main()
