"""DHSA (Dynamic Hierarchical Sparse Attention) reference, as src/techniques/dhsa/ALGORITHM.md defines it.

Independent PyTorch implementation used to write the golden fixtures (make_dhsa_fixtures.py); the TypeScript/WGSL
side never feeds it. Everything that decides (boundary scores, chunk scores, ranking) runs in float64; the attention
output is float64, stored as float32.

Layout: a layer's qkv is float32 [T, 3C] = [q (C) | k (C) | v (C)], head h at columns h*d .. h*d + d - 1.

Public functions:
  boundary_scores(k_feat, w)                   -> z [T] (training-free rule, Step A)
  select_boundaries(z, n_chunks, ...)          -> sorted boundaries [0, ..., T] (Step A selection)
  boundaries_from_keys(k_feat, params, ...)    -> boundaries (z from the rule or from a trained predictor)
  block_scores(q, k, boundaries, params)       -> S_t [blocks, T] (Step B)
  select_keys(S_t, params, T)                  -> per query block, the sorted selected key tokens (Step C)
  row_key_mask(keys, params, T)                -> bool [T, T]: key j used by row i (Step C + dense tail + causal)
  dhsa_attention(qkv, heads, params, ...)      -> dict(boundaries, keys, mask, output, density, margins)
Exact attention, random inputs and fixture I/O come from common.py.
Run this file to self-test on small hand-made cases.
"""
from __future__ import annotations

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (shared inputs, exact attention, fixture I/O)

DEFAULT_PARAMS = {
    "budget": 128,
    "localTokens": 32,
    "globalTokens": 16,
    "tailTokens": 16,
    "queryBlock": 32,
    "chunkMultiplier": 4,
    "boundaryWindow": 4,
    "nmsWindow": 4,
}

F64 = torch.float64


def heads64(qkv: torch.Tensor, heads: int):
    """qkv [T, 3C] -> q, k, v each [H, T, d] in float64 (common.split_heads, widened)."""
    return tuple(x.to(F64) for x in common.split_heads(torch.as_tensor(qkv), heads))


# ----------------------------------------------------------------------------------------------------------------
# Step A: boundaries
# ----------------------------------------------------------------------------------------------------------------

def boundary_scores(k_feat: torch.Tensor, w: int) -> torch.Tensor:
    """Training-free boundary score z_t = 1 - cos(mean f[t-w+1..t], mean f[t+1..t+w]), edges -100.

    k_feat: [T, C] (keys of every head concatenated). Windows are clipped to the positions that exist; the edge
    mask makes the clipping irrelevant (it only touches t < w - 1 and t >= T - w)."""
    f = k_feat.to(F64)
    t_len = f.shape[0]
    pref = torch.cat([torch.zeros(1, f.shape[1], dtype=F64), torch.cumsum(f, 0)], 0)  # [T+1, C]
    t = torch.arange(t_len)
    lo = (t - w + 1).clamp(min=0)
    hi = (t + 1 + w).clamp(max=t_len)
    left = (pref[t + 1] - pref[lo]) / (t + 1 - lo).unsqueeze(1).to(F64)
    right_cnt = (hi - (t + 1)).clamp(min=1).unsqueeze(1).to(F64)
    right = (pref[hi] - pref[t + 1]) / right_cnt
    nl = left.norm(dim=1)
    nr = right.norm(dim=1)
    dot = (left * right).sum(1)
    denom = nl * nr
    cos = torch.where(denom > 0, dot / torch.where(denom > 0, denom, torch.ones_like(denom)), torch.zeros_like(dot))
    z = 1.0 - cos
    z[: max(w - 1, 0)] = -100.0
    z[t_len - w:] = -100.0
    return z


def select_boundaries(z: torch.Tensor, n_chunks: int, nms_window: int, tail_tokens: int, theta: float = 0.0,
                      return_trace: bool = False):
    """The authors' `_select_boundary_candidates` with a defined tie order.

    kept starts as [T - tail] (forced instruction candidate). Candidates z > theta in order (-z, t); skip t > T - tail;
    keep t if |t - t'| > nms_window for every kept t'; stop at n_chunks kept. Boundaries = [0] + sorted(t + 1) + [T].
    """
    t_len = z.shape[0]
    zl = z.tolist()
    cand = [t for t in range(t_len) if zl[t] > theta]
    cand.sort(key=lambda t: (-zl[t], t))  # explicit tie-break: lower t first
    t_instr = t_len - tail_tokens if tail_tokens else None
    kept = [] if t_instr is None else [t_instr]
    processed = []
    if len(kept) < n_chunks:
        for t in cand:
            processed.append(t)
            if t_instr is not None and t > t_instr:
                continue
            if nms_window == 0 or all(abs(t - s) > nms_window for s in kept):
                kept.append(t)
            if len(kept) >= n_chunks:
                break
    bounds = sorted(t + 1 for t in kept)
    if not bounds or bounds[0] != 0:
        bounds = [0] + bounds
    if bounds[-1] != t_len:
        bounds = bounds + [t_len]
    if return_trace:
        # margin: the smallest gap between two z values whose order was decided (the processed prefix + next one)
        nxt = cand[len(processed)] if len(processed) < len(cand) else None
        seq = [zl[t] for t in processed] + ([zl[nxt]] if nxt is not None else [])
        gaps = [seq[i] - seq[i + 1] for i in range(len(seq) - 1) if seq[i] != seq[i + 1]]
        return bounds, {"minGap": min(gaps) if gaps else None, "processed": len(processed)}
    return bounds


def boundaries_from_keys(k_feat: torch.Tensor, params: dict, predictor=None, return_trace: bool = False):
    """Step A on layer-0 keys [T, C]. predictor: None (training-free rule, theta 0) or a callable
    k_feat [T, C] -> logits [T] (trained predictor; theta = params.get('theta', 1.1))."""
    t_len = k_feat.shape[0]
    w = params["boundaryWindow"]
    n_chunks = (t_len // params["queryBlock"]) * params["chunkMultiplier"]
    if predictor is None:
        z = boundary_scores(k_feat, w)
        theta = 0.0
    else:
        z = predictor(k_feat).to(F64).clone()
        z[: max(w - 1, 0)] = -100.0
        z[t_len - w:] = -100.0
        theta = params.get("theta", 1.1)
    return select_boundaries(z, n_chunks, params["nmsWindow"], params["tailTokens"], theta, return_trace)


# ----------------------------------------------------------------------------------------------------------------
# Step B: scores
# ----------------------------------------------------------------------------------------------------------------

def n_blocks(t_len: int, bq: int) -> int:
    return (t_len + bq - 1) // bq


def block_scores(q: torch.Tensor, k: torch.Tensor, boundaries, params: dict):
    """q, k [H, T, d]. Returns (S_t [nb, T] float64, S_c [nb, n_chunks], chunk_of_token [T]).

    Query blocks partition all T rows; block b's vector sums only its rows below T - tail (the instruction rows
    are split off first, as the authors' dhsa_sdpa does), / B_q, times sqrt(those rows). A block with no such row
    gets a zero vector (it makes no selection)."""
    _, t_len, d = q.shape
    bq = params["queryBlock"]
    n_sel_rows = t_len - params["tailTokens"]
    nb = n_blocks(t_len, bq)
    qa = q.mean(0)  # [T, d]
    ka = k.mean(0)
    rows = torch.arange(t_len)
    qm = qa * (rows < n_sel_rows).unsqueeze(1).to(F64)
    pad = nb * bq - t_len
    qsum = torch.cat([qm, torch.zeros(pad, d, dtype=F64)], 0).reshape(nb, bq, d).sum(1)
    real = torch.tensor([max(0, min((b + 1) * bq, n_sel_rows) - b * bq) for b in range(nb)], dtype=F64)
    qbar = qsum / bq * real.sqrt().unsqueeze(1)
    bnd = torch.tensor(boundaries, dtype=torch.long)
    pref = torch.cat([torch.zeros(1, d, dtype=F64), torch.cumsum(ka, 0)], 0)
    clen = (bnd[1:] - bnd[:-1]).clamp(min=1).to(F64).unsqueeze(1)
    kbar = (pref[bnd[1:]] - pref[bnd[:-1]]) / clen * clen.sqrt()
    s_c = qbar @ kbar.T
    chunk_of = torch.searchsorted(bnd, torch.arange(t_len), right=True) - 1
    return s_c[:, chunk_of], s_c, chunk_of


# ----------------------------------------------------------------------------------------------------------------
# Step C: per-query-block key selection
# ----------------------------------------------------------------------------------------------------------------

def rank_desc(scores: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """idx (ascending token indices) ordered by (-score, index): an explicit stable sort."""
    assert bool((idx[1:] > idx[:-1]).all()) if idx.numel() > 1 else True
    order = torch.sort(-scores, stable=True).indices  # stable: equal scores keep ascending index order
    return idx[order]


def select_block(s_row: torch.Tensor, b: int, params: dict, t_len: int) -> list[int]:
    """One query block's selected key tokens (sorted). s_row: S_t[b] over all T keys."""
    bq = params["queryBlock"]
    budget = min(params["budget"], t_len)
    n_allowed = min((b + 1) * bq, t_len)
    recent_n = min(params["localTokens"], budget, n_allowed)
    recent = list(range(n_allowed - recent_n, n_allowed))
    others = torch.arange(0, n_allowed - recent_n)
    k_select = min(budget - recent_n, others.numel())
    top = rank_desc(s_row[others], others)[:k_select].tolist() if k_select > 0 else []
    n_pad = budget - recent_n - k_select  # the authors pad with T - 1 (kept visible to no block row; dropped below)
    slots = sorted(top + [t_len - 1] * n_pad + recent)
    g = params["globalTokens"]
    if g > 0:
        upper = min(b * bq + bq, t_len) - 1
        glob = [min(i, upper) for i in range(g)]
        slots = glob[: len(slots)] if g >= len(slots) else glob + slots[g:]
    keys = sorted(set(slots))
    if n_pad > 0 and (t_len - 1) >= n_allowed:
        keys = [j for j in keys if j != t_len - 1]
    return keys


def select_keys(s_t: torch.Tensor, params: dict, t_len: int):
    """Per query block (ceil(T / B_q) of them), the sorted key tokens its non-instruction rows use; a block made of
    instruction rows only gets all its allowed keys (what its rows attend to)."""
    bq = params["queryBlock"]
    n_sel_rows = t_len - params["tailTokens"]
    out = []
    for b in range(n_blocks(t_len, bq)):
        if b * bq >= n_sel_rows:
            out.append(list(range(min((b + 1) * bq, t_len))))
        else:
            out.append(select_block(s_t[b], b, params, t_len))
    return out


def selection_margin(s_t: torch.Tensor, keys, params: dict, t_len: int, chunk_of: torch.Tensor):
    """The smallest score gap at any block's top-k cut between different chunks (a proxy for how far float32
    rounding is from flipping a choice). None when no block ranks."""
    bq = params["queryBlock"]
    n_sel_rows = t_len - params["tailTokens"]
    best = None
    for b, ks in enumerate(keys):
        n_allowed = min((b + 1) * bq, t_len)
        if b * bq >= n_sel_rows or n_allowed <= params["budget"]:
            continue
        recent_n = min(params["localTokens"], params["budget"], n_allowed)
        others = torch.arange(0, n_allowed - recent_n)
        sel = torch.zeros(t_len, dtype=torch.bool)
        sel[torch.tensor(ks)] = True
        # the ranked picks are the selected "others" beyond the global overwrite; use the authors' pick set instead:
        k_select = min(params["budget"] - recent_n, others.numel())
        ranked = rank_desc(s_t[b][others], others)
        picked, rest = ranked[:k_select], ranked[k_select:]
        if rest.numel() == 0:
            continue
        s_cut = s_t[b][picked[-1]].item()
        c_cut = chunk_of[picked[-1]].item()
        above = [s_t[b][j].item() for j in picked.tolist() if chunk_of[j].item() != c_cut]
        below = [s_t[b][j].item() for j in rest.tolist() if chunk_of[j].item() != c_cut]
        gaps = []
        if above:
            gaps.append(min(above) - s_cut)
        if below:
            gaps.append(s_cut - max(below))
        g = min(gaps) if gaps else None
        if g is not None and (best is None or g < best):
            best = g
    return best


def row_key_mask(keys, params: dict, t_len: int) -> torch.Tensor:
    """bool [T, T]: row i uses key j. Rows below T - tail use their block's keys; the tail rows use every key;
    then the token-level causal mask."""
    bq = params["queryBlock"]
    n_sel_rows = t_len - params["tailTokens"]
    m = torch.zeros(t_len, t_len, dtype=torch.bool)
    for b, ks in enumerate(keys):
        r0, r1 = b * bq, min((b + 1) * bq, n_sel_rows)
        if r1 > r0:
            m[r0:r1, torch.tensor(ks, dtype=torch.long)] = True
    m[max(n_sel_rows, 0):, :] = True
    return m & torch.ones(t_len, t_len, dtype=torch.bool).tril()


# ----------------------------------------------------------------------------------------------------------------
# Step D: attention
# ----------------------------------------------------------------------------------------------------------------

def dhsa_attention(qkv: torch.Tensor, heads: int, params: dict | None = None, boundaries=None,
                   boundary_keys: torch.Tensor | None = None, predictor=None) -> dict:
    """One layer of DHSA. qkv float32 [T, 3C]. boundaries: precomputed (shared across layers), else computed from
    boundary_keys [T, C] (layer 0's keys) or, when that is None too, from this layer's keys."""
    p = dict(DEFAULT_PARAMS)
    if params:
        p.update(params)
    t_len = qkv.shape[0]
    assert t_len > p["tailTokens"] + p["boundaryWindow"], "T too short for the dense tail"
    q, k, _ = heads64(qkv, heads)
    trace = None
    if boundaries is None:
        feat = boundary_keys if boundary_keys is not None else qkv[:, qkv.shape[1] // 3: 2 * qkv.shape[1] // 3]
        boundaries, trace = boundaries_from_keys(feat, p, predictor, return_trace=True)
    s_t, _, chunk_of = block_scores(q, k, boundaries, p)
    keys = select_keys(s_t, p, t_len)
    mask = row_key_mask(keys, p, t_len)
    out = common.attention(qkv, heads, mask)  # exact, float64 inside, float32 [T, C]
    useful = int(mask.sum())
    causal = t_len * (t_len + 1) // 2
    return {
        "boundaries": list(boundaries),
        "keys": keys,
        "mask": mask,
        "output": out,
        "usefulPairs": useful,
        "causalPairs": causal,
        "density": useful / causal,
        "margins": {
            "boundary": None if trace is None else trace["minGap"],
            "selection": selection_margin(s_t, keys, p, t_len, chunk_of),
        },
    }


# ----------------------------------------------------------------------------------------------------------------
# Trained boundary predictor (the authors' BoundarySimilarityAttn, narrowed by an input projection)
# ----------------------------------------------------------------------------------------------------------------

class BoundaryPredictor(torch.nn.Module):
    """legacy/boundary_predictor/models.py::BoundarySimilarityAttn with a per-token input projection C -> E [ours]
    so that the encoder width E, not C, sets the size:

      x_t = W_p f_t + b_p                          (E)
      window(t) = x_{t-w+1..t+w}, zero rows outside [0, T)   (2w tokens; the authors' F.pad(w-1, w) + unfold)
      enc = LayerNorm(MHA(window, window, window))  (nn.MultiheadAttention, `heads` heads, no residual, as theirs)
      l = mean enc[:w], r = mean enc[w:]
      logit = W2 relu(W1 [l, r, |l-r|, l*r, cos(l, r)] + b1) + b2   (cos with eps 1e-6, as F.cosine_similarity)
    """

    def __init__(self, channel_in: int, width: int = 32, heads: int = 4, hidden: int = 64, window: int = 4):
        super().__init__()
        self.window = window
        self.proj = torch.nn.Linear(channel_in, width)
        self.mha = torch.nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm = torch.nn.LayerNorm(width)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(4 * width + 1, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, 1))
        self.config = {"channelIn": channel_in, "width": width, "heads": heads, "hidden": hidden, "window": window}

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """feat [T, C] or [B, T, C] -> logits [T] or [B, T]."""
        single = feat.dim() == 2
        x = self.proj(feat.unsqueeze(0) if single else feat)  # [B, T, E]
        w = self.window
        b, t_len, e = x.shape
        xp = torch.nn.functional.pad(x, (0, 0, w - 1, w))  # [B, T + 2w - 1, E]
        win = xp.unfold(1, 2 * w, 1).permute(0, 1, 3, 2).reshape(b * t_len, 2 * w, e)
        enc, _ = self.mha(win, win, win, need_weights=False)
        enc = self.norm(enc)
        left = enc[:, :w].mean(1).view(b, t_len, e)
        right = enc[:, w:].mean(1).view(b, t_len, e)
        cos = torch.nn.functional.cosine_similarity(left, right, dim=-1, eps=1e-6).unsqueeze(-1)
        fused = torch.cat([left, right, (left - right).abs(), left * right, cos], -1)
        out = self.mlp(fused).squeeze(-1)
        return out[0] if single else out

    def flops_per_token(self) -> dict:
        """Multiply-adds counted as 2 FLOPs; softmax/LayerNorm/ReLU elementwise ops counted once each."""
        c, e, h, w = self.config["channelIn"], self.config["width"], self.config["hidden"], self.window
        n = 2 * w
        proj = 2 * c * e
        in_proj_per_window = n * 2 * e * 3 * e
        attn = 2 * (2 * n * n * e) + 5 * n * n  # QK^T, PV, softmax
        out_proj = n * 2 * e * e
        norm = n * 8 * e
        pool_fuse = n * e + 6 * e
        mlp = 2 * (4 * e + 1) * h + h + 2 * h
        as_written = proj + in_proj_per_window + attn + out_proj + norm + pool_fuse + mlp
        shared = proj + 2 * e * 3 * e + attn + out_proj + norm + pool_fuse + mlp  # a token's q/k/v once
        return {"asWritten": as_written, "sharedInProj": shared}


def predictor_to_json(model: BoundaryPredictor) -> dict:
    import base64
    tensors = {}
    for name, t in model.state_dict().items():
        a = t.detach().to(torch.float32).contiguous()
        tensors[name] = {"shape": list(a.shape),
                         "data": base64.b64encode(a.numpy().astype("<f4").tobytes()).decode("ascii")}
    return {"config": model.config, "tensors": tensors}


def predictor_from_json(obj: dict) -> BoundaryPredictor:
    import base64
    import numpy as np
    cfg = obj["config"]
    m = BoundaryPredictor(cfg["channelIn"], cfg["width"], cfg["heads"], cfg["hidden"], cfg["window"])
    sd = {}
    for name, spec in obj["tensors"].items():
        arr = np.frombuffer(base64.b64decode(spec["data"]), dtype="<f4").reshape(spec["shape"])
        sd[name] = torch.from_numpy(arr.copy())
    m.load_state_dict(sd)
    m.eval()
    return m


def label_ratios(q: torch.Tensor, k: torch.Tensor, w: int, eps: float = 1e-6) -> torch.Tensor:
    """legacy/utils/helper.py::label_boundaries + _compute_cumulative_attention_mass_ratio (global layer,
    smooth_ends=True): head-averaged causal softmax attention A (scale 1/sqrt(d)); for t in [2w - 1, T - 2w):
    past = sum A[t + w:, t - w + 1 .. t], fut = sum A[t + w:, t + 1 .. t + w] (0-based rows t + w .. T - 1),
    ratio = (max + eps) / (min + eps); 0 elsewhere. q, k [H, T, d]."""
    h, t_len, d = q.shape
    logits = (q.to(F64) @ k.to(F64).transpose(1, 2)) / math.sqrt(d)
    causal = torch.ones(t_len, t_len, dtype=torch.bool).tril()
    a = torch.softmax(logits.masked_fill(~causal, float("-inf")), -1).mean(0)  # [T, T]
    s = torch.zeros(t_len + 1, t_len + 1, dtype=F64)
    s[1:, 1:] = a.cumsum(0).cumsum(1)

    def rect(r1, c1, r2, c2):  # 1-based inclusive
        return s[r2, c2] - s[r1 - 1, c2] - s[r2, c1 - 1] + s[r1 - 1, c1 - 1]

    ratios = torch.zeros(t_len, dtype=F64)
    cand = torch.arange(2 * w - 1, t_len - 2 * w)
    if cand.numel() == 0:
        return ratios
    r1 = cand + w + 1
    r2 = torch.full_like(r1, t_len)
    past = rect(r1, cand - (w - 1) + 1, r2, cand + 1)
    fut = rect(r1, cand + 2, r2, cand + w + 1)
    big, small = torch.maximum(past, fut), torch.minimum(past, fut)
    ratios[cand] = (big + eps) / (small + eps)
    return ratios


# ----------------------------------------------------------------------------------------------------------------
# A literal port of the authors' _obtain_dhsa_mask + dhsa_sdpa global splice (for the self-test only)
# ----------------------------------------------------------------------------------------------------------------

def _authors_port_indices(q: torch.Tensor, k: torch.Tensor, boundaries, p: dict):
    """Mirrors legacy/utils/helper.py: instruction rows split off, padded blocks, topk, sort, global splice.
    Returns per-block index lists (with duplicates/pads, torch.topk tie order)."""
    h, t_len, d = q.shape
    bq, instr = p["queryBlock"], p["tailTokens"]
    qs = q[:, : t_len - instr]
    q_len = qs.shape[1]
    nqb = (q_len + bq - 1) // bq
    pad = nqb * bq - q_len
    qs = torch.nn.functional.pad(qs, (0, 0, 0, pad))
    topk_tokens = min(p["budget"], t_len)
    qr = qs.mean(0).reshape(nqb, bq, d).mean(1)
    qmask = torch.nn.functional.pad(torch.ones(q_len, dtype=F64), (0, pad))
    qr = qr * qmask.reshape(nqb, bq).sum(-1).sqrt().unsqueeze(-1)
    kr = k.mean(0)
    kp = torch.cat([torch.zeros(1, d, dtype=F64), torch.cumsum(kr, 0)], 0)
    bnd = torch.tensor(boundaries)
    cl = (bnd[1:] - bnd[:-1]).clamp(min=1).to(F64).unsqueeze(-1)
    kb = (kp[bnd[1:]] - kp[bnd[:-1]]) / cl * cl.sqrt()
    sc = qr @ kb.T
    b2c = torch.searchsorted(bnd, torch.arange(t_len), right=True) - 1
    sc = sc[:, b2c]
    qi = (torch.arange(nqb).view(-1, 1) + 1) * bq
    bm = qi > torch.arange(t_len).view(1, -1)
    sc = sc.masked_fill(~bm, float("-inf"))
    res = []
    for i in range(nqb):
        allowed = torch.nonzero(bm[i]).squeeze(-1)
        idx = torch.empty(topk_tokens, dtype=torch.long)
        rn = min(p["localTokens"], topk_tokens, allowed.numel())
        ridx = allowed[-rn:]
        idx[-rn:] = ridx
        rem = topk_tokens - rn
        if rem > 0:
            s2 = sc[i].clone()
            s2[ridx] = float("-inf")
            ks = min(rem, max(0, allowed.numel() - rn))
            if ks > 0:
                idx[:ks] = torch.topk(s2, k=ks).indices
            if ks < rem:
                idx[ks:rem] = t_len - 1
        idx = torch.sort(idx).values
        g = p["globalTokens"]
        qs0 = i * bq
        up = min(qs0 + bq, t_len)
        glob = torch.minimum(torch.arange(g), torch.tensor(max(up - 1, 0)))
        idx = torch.cat([glob, idx[g:]]) if g < idx.numel() else glob[: idx.numel()]
        res.append(idx.tolist())
    return res, sc


# ----------------------------------------------------------------------------------------------------------------
# Self-test
# ----------------------------------------------------------------------------------------------------------------

def _dense(qkv, heads):
    return common.attention(qkv, heads, None)


def _self_test():
    g = torch.Generator().manual_seed(0)
    ok = 0

    # 1. boundaries at a planted key shift
    t_len, heads, d = 160, 2, 8
    c = heads * d
    a = torch.randn(c, generator=g)
    bvec = torch.randn(c, generator=g)
    keys = torch.where((torch.arange(t_len) < 77).unsqueeze(1), a, bvec) + 0.05 * torch.randn(t_len, c, generator=g)
    z = boundary_scores(keys, 4)
    assert int(torch.argmax(z)) == 76, int(torch.argmax(z))
    p = dict(DEFAULT_PARAMS)
    bnd = boundaries_from_keys(keys, p)
    assert 77 in bnd, bnd
    assert bnd[0] == 0 and bnd[-1] == t_len and bnd == sorted(set(bnd))
    assert t_len - p["tailTokens"] + 1 in bnd  # forced instruction candidate
    kept = [x - 1 for x in bnd[1:-1]]
    assert all(abs(x - y) > p["nmsWindow"] for i, x in enumerate(kept) for y in kept[i + 1:]), kept
    assert len(kept) <= (t_len // 32) * 4
    # a clean step: no other candidate > 0 except noise; NMS suppresses 73..81 around 76
    assert not any(73 <= x <= 81 and x != 76 for x in kept)
    ok += 1

    # edge mask and the stop at N_c
    z2 = torch.linspace(0.1, 1.0, 100, dtype=F64)
    z2[:3] = -100
    z2[96:] = -100
    b2 = select_boundaries(z2, 5, 4, 16)
    k2 = [x - 1 for x in b2[1:-1]]
    # t_I = 84 forced; 85..95 skipped (> t_I); 80..84 suppressed (distance <= 4); then every 5th downwards
    assert k2 == [64, 69, 74, 79, 84], k2
    ok += 1

    # 2. budget >= allowed keys -> all keys (output = dense)
    t_len, heads, d = 200, 2, 8
    qkv = torch.randn(t_len, 3 * heads * d, generator=g)
    r = dhsa_attention(qkv, heads, {"budget": 1024})
    for b, ks in enumerate(r["keys"]):
        assert ks == list(range(min((b + 1) * 32, t_len))), b
    assert abs(r["density"] - 1.0) < 1e-12
    assert torch.allclose(r["output"], _dense(qkv, heads), atol=0)
    ok += 1

    # 3. tail rows dense; 4. recent and global always in; budget respected
    t_len = 300
    qkv = 3 * torch.randn(t_len, 3 * heads * d, generator=g)
    p = {"budget": 64}
    r = dhsa_attention(qkv, heads, p)
    dense = _dense(qkv, heads)
    tail0 = t_len - DEFAULT_PARAMS["tailTokens"]
    assert torch.allclose(r["output"][tail0:], dense[tail0:], atol=0)
    assert not torch.allclose(r["output"][:tail0], dense[:tail0], atol=1e-6)
    assert bool(r["mask"][tail0:].eq(torch.ones(t_len, t_len, dtype=torch.bool).tril()[tail0:]).all())
    for b, ks in enumerate(r["keys"]):
        n_allowed = min((b + 1) * 32, t_len)
        s = set(ks)
        assert set(range(16)) <= s, b
        assert set(range(max(0, n_allowed - 32), n_allowed)) <= s, b
        if b * 32 < tail0:
            assert len(ks) == min(64, n_allowed), (b, len(ks))
        assert all(0 <= j < n_allowed for j in ks)
    ok += 1

    # 5. tie-break: equal scores -> lower index first
    s_row = torch.zeros(t_len, dtype=F64)
    ks = select_block(s_row, 5, {**DEFAULT_PARAMS, "budget": 64}, t_len)
    assert ks == list(range(32)) + list(range(160, 192)), ks
    s_row = torch.zeros(t_len, dtype=F64)
    s_row[100:104] = 1.0
    s_row[50:60] = 0.5
    ks = select_block(s_row, 5, {**DEFAULT_PARAMS, "budget": 64}, t_len)
    # picks: 100..103, 50..59, then 0..17 by index; globals overwrite the lowest 16 (already 0..15)
    assert ks == sorted(set(range(18)) | set(range(50, 60)) | set(range(100, 104)) | set(range(160, 192))), ks
    ok += 1

    # 6. agreement with a literal port of the authors' code (up to torch.topk's order among equal scores)
    for seed, t_len, bud in ((1, 1000, 256), (2, 1024, 128), (3, 333, 64)):
        gg = torch.Generator().manual_seed(seed)
        qkv = torch.randn(t_len, 3 * heads * d, generator=gg)
        qkv[:, : heads * d] *= 4
        pp = {**DEFAULT_PARAMS, "budget": bud}
        r = dhsa_attention(qkv, heads, pp)
        q, k, _ = heads64(qkv, heads)
        port, sc = _authors_port_indices(q, k, r["boundaries"], pp)
        for b, idx in enumerate(port):
            ours = r["keys"][b]
            n_allowed = min((b + 1) * 32, t_len)
            theirs = sorted(set(j for j in idx if j < n_allowed))
            assert len(ours) == len(theirs), (seed, b, len(ours), len(theirs))
            # same multiset of scores (ties may pick different tokens of the same chunk)
            so = sorted(sc[b, ours].tolist())
            st = sorted(sc[b, theirs].tolist())
            assert so == st, (seed, b)
            assert len(idx) == len(set(idx)) or n_allowed <= bud, (seed, b)  # no duplicates when ranking
        # our own full-score-sorted picks: every picked "other" scores >= every unpicked allowed key
    ok += 1

    print(f"dhsa.py self-test: {ok} passed, 0 failed")


if __name__ == "__main__":
    _self_test()
