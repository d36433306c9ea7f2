"""Write the DHSA golden fixtures, src/techniques/dhsa/__fixtures__/*.json, with tools/sparse_reference/dhsa.py.

    /usr/bin/python3 tools/sparse_reference/make_dhsa_fixtures.py

The recall-lm cases read src/techniques/__fixtures__/recall-lm-needle-qkv.{bin,json} (tools/sparse_reference/
make_inputs.py writes them); run that first. Each fixture:
  input       {"kind": "random", seed, tokens, heads, headDim, qScale} | {"kind": "recall-lm", "layer"}
  params      ALGORITHM.md's parameters
  boundaries  Step A (random: from the input's own keys; recall-lm: from layer 0's keys, whatever the layer)
  keys        per 32-row query block, the sorted key tokens its non-instruction rows use (Step C); a block made of
              instruction rows only lists all its allowed keys
  density     useful pairs / causal pairs (row i uses key j <= i; the last tailTokens rows are dense)
  outputRows  common.output_rows(T); output: base64 float32 [rows, C], exact attention over those keys
  margins     smallest decision gaps (float64): boundary = between two z values whose order the NMS used,
              selection = between a block's cut score and the nearest score of another chunk across the cut
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import dhsa  # noqa: E402

OUT = common.REPO / 'src' / 'techniques' / 'dhsa' / '__fixtures__'

RANDOM_CASES = [
    ('random-t1024-h2-d16', dict(seed=7, tokens=1024, heads=2, headDim=16, qScale=4), 128),
    ('random-t1000-h2-d32', dict(seed=11, tokens=1000, heads=2, headDim=32, qScale=6), 256),
]
RECALL_CASES = [
    ('recall-lm-needle-layer1-b128', 1, 128),
    ('recall-lm-needle-layer0-b64', 0, 64),
]


def fixture(input_desc, params, result, qkv):
    t_len = qkv.shape[0]
    rows = common.output_rows(t_len)
    return {
        'definition': 'src/techniques/dhsa/ALGORITHM.md; written by tools/sparse_reference/make_dhsa_fixtures.py',
        'input': input_desc,
        'params': params,
        'boundaries': result['boundaries'],
        'keys': result['keys'],
        'usefulPairs': result['usefulPairs'],
        'causalPairs': result['causalPairs'],
        'density': result['density'],
        'margins': result['margins'],
        'outputRows': rows,
        'output': common.b64_f32(result['output'][rows]),
    }


def fmt(x):
    return 'none' if x is None else f'{x:.3g}'


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    report = []
    for name, inp, budget in RANDOM_CASES:
        params = {**dhsa.DEFAULT_PARAMS, 'budget': budget}
        qkv = common.random_qkv(inp['seed'], inp['tokens'], inp['heads'], inp['headDim'], inp['qScale'])
        result = dhsa.dhsa_attention(qkv, inp['heads'], params)
        size = common.write_json(OUT / f'{name}.json', fixture({'kind': 'random', **inp}, params, result, qkv))
        report.append((name, result, size))

    needle = common.FIXTURES / 'recall-lm-needle-qkv.bin'
    if not needle.exists():
        sys.exit(f'{needle} is missing: run tools/sparse_reference/make_inputs.py first')
    qkv_layers, meta = common.load_needle_qkv()
    heads = meta['heads']
    channels = heads * meta['headDim']
    for name, layer, budget in RECALL_CASES:
        params = {**dhsa.DEFAULT_PARAMS, 'budget': budget}
        layer0_keys = qkv_layers[0][:, channels:2 * channels]
        boundaries, trace = dhsa.boundaries_from_keys(layer0_keys, params, return_trace=True)
        result = dhsa.dhsa_attention(qkv_layers[layer], heads, params, boundaries=boundaries)
        result['margins']['boundary'] = trace['minGap']
        size = common.write_json(OUT / f'{name}.json',
                                 fixture({'kind': 'recall-lm', 'layer': layer}, params, result, qkv_layers[layer]))
        report.append((name, result, size))

    print(f'{"fixture":34s} {"T":>5s} {"chunks":>6s} {"density":>8s} {"bytes":>7s}  margins (boundary, selection)')
    for name, result, size in report:
        m = result['margins']
        print(f'{name:34s} {result["mask"].shape[0]:5d} {len(result["boundaries"]) - 1:6d} '
              f'{result["density"]:8.4f} {size:7d}  {fmt(m["boundary"])}, {fmt(m["selection"])}')


if __name__ == '__main__':
    main()
