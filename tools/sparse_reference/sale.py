"""SALE reference (PyTorch): int4 estimate + relative attention score + block-sparse prefill, causal rows.

Implements src/techniques/sale/ALGORITHM.md exactly (our scaling: query blocks of 32 rows, key blocks of 16 keys,
segments and local band of 4 key blocks, sink = key block 0). The estimate is float32 in the operation order of
ALGORITHM.md steps 1-3; the exact pass (m, l, thresholds) is float64; the selection test is `float64(s_hat) > t`.

    /usr/bin/python3 tools/sparse_reference/sale.py          # self-test on small hand-made cases
    /usr/bin/python3 tools/sparse_reference/sale.py calibrate  # writes public/models/recall-lm/calibration/sale.json
"""
import json
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

BQ = 32            # query block (rows)
BK = 16            # key block (keys) = one attention tile
SEG = 4            # key blocks per segment (S / Bk)
LOCAL = 4          # key blocks of the local band, diagonal included (W / Bk)
DENSE_TAU = 1e-5   # tau below this: every block
DENSE_BELOW = 64   # T <= denseBelow runs dense


# ---------------------------------------------------------------------------------------------------------------
# Steps 1-3: smoothing, int4 quantisation, estimated logits (float32, fixed operation order)

def sequential_sum(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Float32 sum along `dim` in index order, one rounding per addition (vectorised over the other dims)."""
    x = x.to(torch.float32).movedim(dim, 0)
    acc = x[0].clone()
    for i in range(1, x.shape[0]):
        acc = acc + x[i]
    return acc


def quantise_int4(x: torch.Tensor):
    """Per-row symmetric int4, the authors' order: r = 7 / max|x|, q = clamp(round_half_even(x * r), -7, 7),
    s = 1 / r. Zero rows: q = 0, s = 0. Returns (q float32 holding integers, s float32 [rows])."""
    x = x.to(torch.float32)
    amax = x.abs().amax(dim=-1)
    zero = amax == 0
    seven = torch.tensor(7.0, dtype=torch.float32)
    r = seven / torch.where(zero, torch.ones_like(amax), amax)
    q = torch.round(x * r[:, None]).clamp(-7, 7)          # torch.round: half to even
    q = torch.where(zero[:, None], torch.zeros_like(q), q)
    s = torch.tensor(1.0, dtype=torch.float32) / r
    s = torch.where(zero, torch.zeros_like(s), s)
    return q, s


def estimate(q: torch.Tensor, k: torch.Tensor):
    """One head: q, k float32 [T, d]. Returns (s_hat float32 [T, T], k_smooth float32 [T, d])."""
    tokens = q.shape[0]
    n = torch.tensor(float(tokens), dtype=torch.float32)
    q_mean = sequential_sum(q, 0) / n
    k_mean = sequential_sum(k, 0) / n
    k_s = k - k_mean
    q_s = q - q_mean
    c = sequential_sum(q_mean[None, :] * k_s, 1)              # [T]: the d products, then their sequential sum
    qq, sq = quantise_int4(q_s)
    qk, sk = quantise_int4(k_s)
    dot = (qq.to(torch.float64) @ qk.to(torch.float64).T).to(torch.float32)  # exact integers (|dot| <= 49 d)
    s_hat = (sq[:, None] * sk[None, :]) * dot + c[None, :]
    return s_hat, k_s


# ---------------------------------------------------------------------------------------------------------------
# Steps 4-7: reference region, thresholds, segment walk

def reference_blocks(b: int, n_blocks: int):
    """(m, last_diag) of query block b: middle region [1, m), band [m, last_diag], sink 0."""
    last_diag = min(2 * b + 1, n_blocks - 1)
    m = 1 + SEG * max(0, (last_diag - LOCAL) // SEG)
    return m, last_diag


def _blocks_to_keys(blocks, tokens):
    keys = torch.zeros(tokens, dtype=torch.bool)
    for blk in blocks:
        keys[blk * BK:min((blk + 1) * BK, tokens)] = True
    return keys


def _threshold(s_exact, rows, key_mask, tau, lam):
    """t_i = m_i + ln(tau * l_i) / lam over the keys of key_mask (causal), float64 [len(rows)]."""
    causal = torch.arange(s_exact.shape[1])[None, :] <= rows[:, None]
    mask = key_mask[None, :] & causal
    s = s_exact[rows].masked_fill(~mask, float('-inf'))
    m = s.amax(dim=1)
    l = torch.exp(lam * (s - m[:, None])).sum(dim=1)
    return m + torch.log(tau * l) / lam


def sale_head(q, k, tau: float, mode: str = 'two-pass', dense_below: int = DENSE_BELOW):
    """One head, causal. q, k float32 [T, d].
    Returns dict: blocks[query_block] = sorted kept ∪ reference key blocks (32-row query blocks),
    forced[query_block] = reference region, thresholds float64 [T] (step 5's t_i, before the first segment; NaN
    where the row has no middle region), margin (smallest |max_i (max_j s_hat - t_i)| over all block decisions)."""
    assert mode in ('two-pass', 'one-pass'), mode
    tokens, d = q.shape
    n_blocks = -(-tokens // BK)
    n_qblocks = -(-tokens // BQ)
    lam = 1.0 / math.sqrt(d)
    thresholds = torch.full((tokens,), float('nan'), dtype=torch.float64)
    blocks, forced = [], []
    if tokens <= dense_below or tau < DENSE_TAU:
        for b in range(n_qblocks):
            _, last_diag = reference_blocks(b, n_blocks)
            every = list(range(last_diag + 1))
            blocks.append(every)
            forced.append(list(every))
        return {'blocks': blocks, 'forced': forced, 'thresholds': thresholds, 'margin': math.inf}
    s_hat, k_s = estimate(q, k)
    s_hat64 = s_hat.to(torch.float64)
    s_exact = q.to(torch.float64) @ k_s.to(torch.float64).T
    margin = math.inf
    for b in range(n_qblocks):
        rows = torch.arange(b * BQ, min((b + 1) * BQ, tokens))
        m, last_diag = reference_blocks(b, n_blocks)
        ref = sorted({0} | set(range(m, last_diag + 1)))
        kept = []
        key_mask = _blocks_to_keys(ref, tokens)
        if m > 1:
            t = _threshold(s_exact, rows, key_mask, tau, lam)
            thresholds[rows] = t
            for seg_start in range(1, m, SEG):
                if mode == 'one-pass' and seg_start > 1:
                    t = _threshold(s_exact, rows, key_mask, tau, lam)
                chosen = []
                for blk in range(seg_start, seg_start + SEG):
                    block_max = s_hat64[rows, blk * BK:(blk + 1) * BK].amax(dim=1)   # middle blocks are full
                    excess = (block_max - t).max().item()
                    margin = min(margin, abs(excess))
                    if excess > 0:
                        chosen.append(blk)
                kept += chosen
                if chosen:
                    key_mask = key_mask | _blocks_to_keys(chosen, tokens)
        blocks.append(sorted(ref + kept))
        forced.append(ref)
    return {'blocks': blocks, 'forced': forced, 'thresholds': thresholds, 'margin': margin}


def to_tiles(per_qblock, tokens):
    """32-row query-block lists -> 16-row tile lists, without key blocks wholly after the tile's last row."""
    n_tiles = -(-tokens // BK)
    tiles = []
    for tile in range(n_tiles):
        last_row = min((tile + 1) * BK, tokens) - 1
        tiles.append([blk for blk in per_qblock[tile // 2] if blk * BK <= last_row])
    return tiles


def taus_of(tau, heads):
    if isinstance(tau, (int, float)):
        return [float(tau)] * heads
    tau = [float(x) for x in tau]
    assert len(tau) == heads, (tau, heads)
    return tau


def density(tile_lists, tokens):
    """Useful kept pairs / causal pairs of one head (token-level causal mask inside the kept tiles)."""
    mask = common.block_lists_to_mask([tile_lists], tokens)[0]
    return mask.sum().item() / (tokens * (tokens + 1) / 2)


def sale_layer(qkv, heads, tau, mode='two-pass', dense_below=DENSE_BELOW, with_output=True):
    """One layer. qkv float32 [T, 3C] (the engine's layout). tau: one number or one per head.
    Returns dict: keyBlocks [head][tile][...], forced [head][tile][...], thresholds float64 [H, T],
    density [H], margin [H], output float32 [T, C] (exact attention over the kept tiles, float64 inside)."""
    qkv = torch.as_tensor(qkv, dtype=torch.float32)
    tokens = qkv.shape[0]
    q, k, _ = common.split_heads(qkv, heads)
    taus = taus_of(tau, heads)
    key_blocks, forced, thresholds, margins, dens = [], [], [], [], []
    for h in range(heads):
        r = sale_head(q[h].contiguous(), k[h].contiguous(), taus[h], mode, dense_below)
        tiles = to_tiles(r['blocks'], tokens)
        key_blocks.append(tiles)
        forced.append(to_tiles(r['forced'], tokens))
        thresholds.append(r['thresholds'])
        margins.append(r['margin'])
        dens.append(density(tiles, tokens))
    out = {'keyBlocks': key_blocks, 'forced': forced, 'thresholds': torch.stack(thresholds), 'density': dens,
           'margin': margins}
    if with_output:
        out['output'] = common.attention(qkv, heads, key_blocks)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Calibration (ALGORITHM.md "Calibration")

CALIBRATION_SEED = 2718   # eval.json is seed 1024; training probes 777, held-out grid 4242, the card's example 1025
CALIBRATION_PROMPTS = 8
CALIBRATION_LENGTH = 512
THETA = 0.4
TAU_START = 0.008
CALIBRATION_PATH = common.MODEL_DIR / 'calibration' / 'sale.json'


def calibration_texts(seed=CALIBRATION_SEED, count=CALIBRATION_PROMPTS, length=CALIBRATION_LENGTH):
    """`count` needle sequences (prompt + answer, `length` tokens) from tools/recall_lm_data.py's evaluation
    generator, one per needle depth i/(count-1)."""
    sys.path.insert(0, str(common.REPO / 'tools'))
    import recall_lm_data as data
    depths = tuple(i / (count - 1) for i in range(count))
    items = data.evaluation_set(seed, 1, lengths=(length,), depths=depths, n_copy=0, n_sort=0)
    return [item['prompt'] + item['answer'] for item in items]


def head_error(qkv, heads, h, tau, mode, dense_out):
    """sum |O_sparse - O_dense| over [T, d] of head h (float64 outputs)."""
    qkv = torch.as_tensor(qkv, dtype=torch.float32)
    tokens = qkv.shape[0]
    d = qkv.shape[1] // 3 // heads
    q, k, _ = common.split_heads(qkv, heads)
    r = sale_head(q[h].contiguous(), k[h].contiguous(), tau)
    tiles = to_tiles(r['blocks'], tokens)
    lists = [[[] for _ in tiles] for _ in range(heads)]
    lists[h] = tiles
    sparse = common.attention(qkv, heads, lists)[:, h * d:(h + 1) * d].to(torch.float64)
    return (sparse - dense_out[:, h * d:(h + 1) * d]).abs().sum().item()


def calibrate(texts=None, theta=THETA, mode='two-pass', seed=CALIBRATION_SEED):
    """Per layer and head: tau from 0.008, carried from prompt to prompt; on each prompt halve while
    err >= theta * T (tau <= 1e-4 -> 0). Returns (tau [layer][head], error [layer][head]) where error is the
    largest err / T over the prompts at the final tau."""
    if texts is None:
        texts = calibration_texts(seed)
    layers, heads, _ = common.model_shape()
    qkvs = [common.recall_lm_qkv(text)[0] for text in texts]   # dense forward: each layer's own dense input
    taus = [[TAU_START] * heads for _ in range(layers)]
    errors = [[0.0] * heads for _ in range(layers)]
    for layer in range(layers):
        dense = [common.attention(qkv[layer], heads).to(torch.float64) for qkv in qkvs]
        for h in range(heads):
            tau = TAU_START
            for qkv, dense_out in zip(qkvs, dense):
                tokens = qkv.shape[1]
                while True:
                    err = head_error(qkv[layer], heads, h, tau, mode, dense_out)
                    if err < theta * tokens or tau == 0:
                        break
                    tau /= 2
                    if tau <= 1e-4:
                        tau = 0.0
            taus[layer][h] = tau
            errors[layer][h] = max(head_error(qkv[layer], heads, h, tau, mode, dense_out) / qkv.shape[1]
                                   for qkv, dense_out in zip(qkvs, dense))
    return taus, errors


def write_calibration(path=CALIBRATION_PATH, seed=CALIBRATION_SEED):
    texts = calibration_texts(seed)
    taus, errors = calibrate(texts, seed=seed)
    record = {
        'method': 'SALE calibration (halve τ from 0.008 until Σ|O_sparse − O_dense| < θ·T)',
        'theta': THETA,
        'prompts': len(texts),
        'seed': seed,
        'tau': taus,
        'error': [[round(e, 6) for e in row] for row in errors],
        'details': {
            'generator': 'tools/recall_lm_data.py evaluation_set(seed, 1, lengths=(512,), '
                         'depths=(0, 1/7, ..., 1), n_copy=0, n_sort=0): needle prompt + answer, 512 tokens each',
            'mode': 'two-pass (the authors calibrate with impl_version 2)',
            'error': 'largest Σ|O_sparse − O_dense| / T over the prompts at the final τ (float64 outputs)',
            'tau_carry': 'τ carried from prompt to prompt in order, as the authors keep one τ per head',
            'written_by': 'tools/sparse_reference/sale.py calibrate',
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + '\n')
    return record


def load_calibration(path=CALIBRATION_PATH):
    return json.loads(Path(path).read_text())


# ---------------------------------------------------------------------------------------------------------------
# Self-test

def _self_test():
    torch.manual_seed(0)
    # Reference region geometry against the kernel's n_segs / remain_blocks / n_supplement_seg arithmetic.
    for n_blocks in range(1, 70):
        for b in range(-(-n_blocks // 2)):
            n_block_max = min(n_blocks, 2 * b + 2)
            wo_sink = n_block_max - 1
            n_segs = -(-wo_sink // SEG)
            remain = wo_sink - n_segs * SEG
            if remain >= LOCAL:
                n_local = remain
            else:
                supplement = -(-(LOCAL - remain) // SEG)
                n_local = SEG * supplement + remain
                n_segs -= supplement
            m, last_diag = reference_blocks(b, n_blocks)
            assert last_diag == n_block_max - 1
            assert m - 1 == SEG * max(0, n_segs), (n_blocks, b, m, n_segs)
            assert last_diag - m + 1 == min(n_local, wo_sink), (n_blocks, b, m, n_local)

    # Quantisation: half to even, zero rows, the authors' order.
    qv, sv = quantise_int4(torch.tensor([[0.5, 7.0, -2.5, 0.0], [0.0, 0.0, 0.0, 0.0], [1.5, -3.5, 0.25, 3.5]]))
    assert qv[0].tolist() == [0, 7, -2, 0] and sv[0].item() == 1.0, (qv, sv)
    assert qv[1].tolist() == [0, 0, 0, 0] and sv[1].item() == 0.0
    assert qv[2].tolist() == [3, -7, 0, 7], qv[2]   # 1.5*2=3, 0.25*2=0.5 -> 0

    tokens, heads, d = 96, 1, 16
    qkv = common.random_qkv(3, tokens, heads, d, 1.0)
    # A planted spike: key 20 (block 1, in the middle region of query block 2) aligned with the queries of rows
    # 64..95, far above every other logit.
    qkv = qkv.clone()
    direction = torch.randn(d)
    direction /= direction.norm()
    qkv[64:96, 0:d] = 0.05 * qkv[64:96, 0:d] + 4.0 * direction
    qkv[20, d:2 * d] = 12.0 * direction
    r = sale_layer(qkv, heads, 0.004, dense_below=64)
    # T=96: query block 2 (rows 64..95): last_diag 5, m = 1 + 4*floor(1/4) = 1 -> no middle region: all forced.
    assert r['keyBlocks'][0][4] == [0, 1, 2, 3, 4], r['keyBlocks'][0][4]
    assert r['keyBlocks'][0][5] == [0, 1, 2, 3, 4, 5]
    # Longer: T=192, spike for query block 5 (rows 160..191): last_diag 11, m = 1 + 4*floor(7/4) = 5, middle 1..4.
    tokens = 192
    qkv = common.random_qkv(5, tokens, heads, d, 1.0).clone()
    qkv[160:192, 0:d] = 0.05 * qkv[160:192, 0:d] + 4.0 * direction
    qkv[3, d:2 * d] = 12.0 * direction     # a sink key in block 0: the reference mass is large
    no_spike = qkv.clone()
    qkv[20, d:2 * d] = 12.0 * direction    # the planted spike in block 1
    for mode in ('two-pass', 'one-pass'):
        r = sale_layer(no_spike, heads, 0.004, mode=mode)
        assert 1 not in r['keyBlocks'][0][10], r['keyBlocks'][0][10]
        r = sale_layer(qkv, heads, 0.004, mode=mode)
        tile = 10
        assert r['forced'][0][tile] == [0, 5, 6, 7, 8, 9, 10], r['forced'][0][tile]
        assert 1 in r['keyBlocks'][0][tile] and 1 in r['keyBlocks'][0][11], (mode, r['keyBlocks'][0][tile])
        # Blocks 2..4 carry no spike: far below the sink's logit, they are dropped.
        assert not ({2, 3, 4} & set(r['keyBlocks'][0][tile])), r['keyBlocks'][0][tile]
        assert all(a == sorted(set(a)) for a in r['keyBlocks'][0])
        assert all(set(f) <= set(a) for f, a in zip(r['forced'][0], r['keyBlocks'][0]))
    # tau = 0 -> every causal block, output = dense.
    r = sale_layer(qkv, heads, 0.0)
    for tile, blocks in enumerate(r['keyBlocks'][0]):
        assert blocks == list(range(tile + 1)), (tile, blocks)
    assert torch.allclose(r['output'], common.attention(qkv, heads), atol=1e-6)
    assert abs(r['density'][0] - 1.0) < 1e-12
    # T <= denseBelow -> dense, and denseBelow is honoured.
    small = common.random_qkv(9, 64, 2, 16, 4.0)
    r = sale_layer(small, 2, 0.5, dense_below=64)
    assert all(blocks == list(range(t + 1)) for h in r['keyBlocks'] for t, blocks in enumerate(h))
    r = sale_layer(qkv, heads, 1.0, dense_below=192)
    assert all(blocks == list(range(t + 1)) for t, blocks in enumerate(r['keyBlocks'][0]))
    # tau = 1 with every middle logit below the sink's: exactly the reference region.
    r = sale_layer(no_spike, heads, 1.0)
    assert r['keyBlocks'] == r['forced']
    # Tiles of a T that is not a multiple of 16: the last tile drops blocks after its last row, and one-pass never
    # keeps fewer blocks than the reference region.
    odd = common.random_qkv(11, 200, 2, 32, 6.0)
    for mode in ('two-pass', 'one-pass'):
        r = sale_layer(odd, 2, [0.008, 0.001], mode=mode)
        assert len(r['keyBlocks'][0]) == 13 and max(r['keyBlocks'][0][12]) == 12
        assert all(max(blocks) == t for h in r['keyBlocks'] for t, blocks in enumerate(h))
    # Two-pass keeps a superset of one-pass (its threshold never rises).
    big = common.random_qkv(7, 512, 2, 16, 4.0)
    two, one = sale_layer(big, 2, 0.004), sale_layer(big, 2, 0.004, mode='one-pass')
    for h in range(2):
        for a, b in zip(two['keyBlocks'][h], one['keyBlocks'][h]):
            assert set(b) <= set(a)
    # Against a naive walk in the kernel's own terms (n_segs / n_local_blocks, the direct test
    # exp(lam (s_hat - m)) / l > tau, running (m, l) kept online as flash attention does), one pair at a time.
    for mode in ('two-pass', 'one-pass'):
        tokens, d, tau = 256, 16, 0.2
        qkv = common.random_qkv(7, tokens, 1, d, 4.0)
        q, k = qkv[:, :d].contiguous(), qkv[:, d:2 * d].contiguous()
        s_hat, k_s = estimate(q, k)
        s_exact = (q.to(torch.float64) @ k_s.to(torch.float64).T).tolist()
        s_hat = s_hat.tolist()
        lam = 1 / math.sqrt(d)
        got = to_tiles(sale_head(q, k, tau, mode)['blocks'], tokens)
        naive = []
        for b in range(tokens // BQ):
            n_block_max = min(tokens // BK, 2 * b + 2)
            n_segs = -(-(n_block_max - 1) // SEG)
            remain = n_block_max - 1 - n_segs * SEG
            n_segs -= -(-(LOCAL - remain) // SEG) if remain < LOCAL else 0
            n_local = n_block_max - 1 - SEG * max(0, n_segs)
            computed = list(range(n_block_max - 1, n_block_max - 1 - n_local, -1)) + [0]
            rows = range(b * BQ, (b + 1) * BQ)
            state = {}
            for i in rows:   # online softmax over the blocks in the kernel's order
                m_run, l_run = -math.inf, 0.0
                for blk in computed:
                    for j in range(blk * BK, (blk + 1) * BK):
                        if j <= i:
                            m_new = max(m_run, s_exact[i][j])
                            l_run = l_run * math.exp(lam * (m_run - m_new)) + math.exp(lam * (s_exact[i][j] - m_new))
                            m_run = m_new
                state[i] = [m_run, l_run]
            frozen = {i: list(v) for i, v in state.items()}
            for seg in range(max(0, n_segs)):
                chosen = []
                for blk in range(1 + SEG * seg, 1 + SEG * (seg + 1)):
                    ref = frozen if mode == 'two-pass' else state
                    if any(math.exp(lam * (s_hat[i][j] - ref[i][0])) / ref[i][1] > tau
                           for i in rows for j in range(blk * BK, (blk + 1) * BK)):
                        chosen.append(blk)
                for blk in chosen:
                    computed.append(blk)
                    for i in rows:
                        m_run, l_run = state[i]
                        for j in range(blk * BK, (blk + 1) * BK):
                            m_new = max(m_run, s_exact[i][j])
                            l_run = l_run * math.exp(lam * (m_run - m_new)) + math.exp(lam * (s_exact[i][j] - m_new))
                            m_run = m_new
                        state[i] = [m_run, l_run]
            naive.append(sorted(computed))
        assert got == to_tiles(naive, tokens), mode
    print('sale.py self-test passed')


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == 'calibrate':
        rec = write_calibration()
        print(json.dumps({k: rec[k] for k in ('tau', 'error')}))
    else:
        _self_test()
