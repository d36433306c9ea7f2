"""Shared helpers of the sparse-attention PyTorch references (SALE, DHSA): inputs, exact attention, fixture I/O.

Run with Debian's /usr/bin/python3 (python3-torch); nothing here needs the network or pip.
Inputs are described in src/techniques/__fixtures__/README.md.
"""
import base64
import json
import math
import struct
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
MODEL_DIR = REPO / 'public' / 'models' / 'recall-lm'
FIXTURES = REPO / 'src' / 'techniques' / '__fixtures__'
TILE = 16  # the engine's attention tile: query tiles of 16 rows, key blocks of 16 keys

_M32 = 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------------------------
# Random inputs

def lowbias32(x: torch.Tensor) -> torch.Tensor:
    """lowbias32 on an int64 tensor of values in [0, 2^32); the products stay below 2^63."""
    x = x ^ (x >> 16)
    x = (x * 0x7feb352d) & _M32
    x = x ^ (x >> 15)
    x = (x * 0x846ca68b) & _M32
    x = x ^ (x >> 16)
    return x


def random_qkv(seed: int, tokens: int, heads: int, head_dim: int, q_scale: float) -> torch.Tensor:
    """float32 [T, 3C] as the fixtures README defines: n = t*3C + c, h = lowbias32((n + seed*0x9E3779B9) mod 2^32),
    value = (h >>> 8) / 2^24 * 2 - 1 (exact in float32), the q part (c < C) multiplied by q_scale in float32
    (one IEEE float32 rounding of the exact product, as Math.fround(v * qScale) on the TypeScript side)."""
    channels = heads * head_dim
    width = 3 * channels
    n = torch.arange(tokens * width, dtype=torch.int64)
    h = lowbias32((n + (seed * 0x9E3779B9)) & _M32)
    value = ((h >> 8).to(torch.float64) / 2.0 ** 24 * 2.0 - 1.0).to(torch.float32)  # exact
    value = value.reshape(tokens, width)
    q = (value[:, :channels].to(torch.float64) * float(torch.tensor(q_scale, dtype=torch.float32))).to(torch.float32)
    value[:, :channels] = q
    return value


# ---------------------------------------------------------------------------------------------------------------
# recall-lm: weights, tokenizer and an own GPT-2 forward (float32)

def read_safetensors(path) -> dict:
    raw = Path(path).read_bytes()
    (header_length,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + header_length])
    data = raw[8 + header_length:]
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        if entry['dtype'] != 'F32':
            raise ValueError(f'{name}: dtype {entry["dtype"]} (only F32 is read)')
        start, end = entry['data_offsets']
        tensors[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).reshape(entry['shape'])
    return tensors


def load_recall_lm(model_dir=MODEL_DIR):
    """(weights dict of float32 tensors with the hub GPT-2 names, config dict with 'vocab' added)."""
    model_dir = Path(model_dir)
    if not model_dir.is_absolute():
        model_dir = REPO / model_dir
    weights = read_safetensors(model_dir / 'model.safetensors')
    config = json.loads((model_dir / 'config.json').read_text())
    config['vocab'] = json.loads((model_dir / 'tokenizer.json').read_text())['model']['vocab']
    return weights, config


_MODEL_CACHE = {}


def _model(model_dir=MODEL_DIR):
    key = str(model_dir)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = load_recall_lm(model_dir)
    return _MODEL_CACHE[key]


def encode(text, config) -> list:
    """One character per token; an unknown character is <unk> (id 0), as tools/recall_lm_data.py encodes."""
    vocab = config['vocab']
    return [vocab.get(char, 0) for char in text]


def _layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def _gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def recall_lm_forward(ids, model_dir=MODEL_DIR):
    """Dense GPT-2 forward in float32 on token ids [T] (positions 0..T-1, no dropout).
    Returns (logits float32 [T, vocab], qkv float32 [layers, T, 3C]: every layer's c_attn output)."""
    weights, config = _model(model_dir)
    w = weights
    eps = config['layer_norm_epsilon']
    heads, channels = config['n_head'], config['n_embd']
    d = channels // heads
    ids = torch.as_tensor(ids, dtype=torch.int64)
    tokens = ids.shape[0]
    x = w['wte.weight'][ids] + w['wpe.weight'][:tokens]
    causal = torch.ones(tokens, tokens, dtype=torch.bool).tril()
    qkvs = []
    for layer in range(config['n_layer']):
        p = f'h.{layer}.'
        a = _layer_norm(x, w[p + 'ln_1.weight'], w[p + 'ln_1.bias'], eps)
        qkv = a @ w[p + 'attn.c_attn.weight'] + w[p + 'attn.c_attn.bias']
        qkvs.append(qkv)
        q, k, v = qkv.split(channels, dim=1)
        q = q.reshape(tokens, heads, d).transpose(0, 1)
        k = k.reshape(tokens, heads, d).transpose(0, 1)
        v = v.reshape(tokens, heads, d).transpose(0, 1)
        s = (q @ k.transpose(1, 2)) / math.sqrt(d)
        s = s.masked_fill(~causal, float('-inf'))
        o = torch.softmax(s, dim=-1) @ v
        o = o.transpose(0, 1).reshape(tokens, channels)
        x = x + (o @ w[p + 'attn.c_proj.weight'] + w[p + 'attn.c_proj.bias'])
        m = _layer_norm(x, w[p + 'ln_2.weight'], w[p + 'ln_2.bias'], eps)
        m = _gelu_new(m @ w[p + 'mlp.c_fc.weight'] + w[p + 'mlp.c_fc.bias'])
        x = x + (m @ w[p + 'mlp.c_proj.weight'] + w[p + 'mlp.c_proj.bias'])
    x = _layer_norm(x, w['ln_f.weight'], w['ln_f.bias'], eps)
    logits = x @ w['wte.weight'].T
    return logits, torch.stack(qkvs)


def recall_lm_qkv(text, model_dir=MODEL_DIR):
    """(qkv float32 [layers, T, 3C], ids list) of `text` under the dense recall-lm forward."""
    _, config = _model(model_dir)
    ids = encode(text, config)
    with torch.no_grad():
        _, qkv = recall_lm_forward(ids, model_dir)
    return qkv, ids


def model_shape(model_dir=MODEL_DIR):
    """(layers, heads, head_dim) of recall-lm."""
    _, config = _model(model_dir)
    return config['n_layer'], config['n_head'], config['n_embd'] // config['n_head']


def eval_items(model_dir=MODEL_DIR):
    return json.loads((Path(model_dir) / 'eval.json').read_text())['items']


def needle_item(length=256, model_dir=MODEL_DIR):
    """The first needle item of eval.json with this length (the fixture prompt is its prompt + answer)."""
    return next(i for i in eval_items(model_dir) if i['task'] == 'needle' and i['length'] == length)


def load_needle_qkv():
    """(qkv float32 [layers, T, 3C], meta dict) from src/techniques/__fixtures__/recall-lm-needle-qkv.{bin,json}."""
    meta = json.loads((FIXTURES / 'recall-lm-needle-qkv.json').read_text())
    raw = (FIXTURES / 'recall-lm-needle-qkv.bin').read_bytes()
    qkv = torch.frombuffer(bytearray(raw), dtype=torch.float32)
    return qkv.reshape(meta['layers'], meta['tokens'], 3 * meta['heads'] * meta['headDim']), meta


# ---------------------------------------------------------------------------------------------------------------
# Exact attention

def split_heads(qkv, heads):
    """qkv [T, 3C] -> q, k, v each [H, T, d] (views in qkv's dtype)."""
    tokens, width = qkv.shape
    channels = width // 3
    d = channels // heads
    q, k, v = qkv.split(channels, dim=1)
    return tuple(x.reshape(tokens, heads, d).transpose(0, 1) for x in (q, k, v))


def block_lists_to_mask(key_blocks, tokens, tile=TILE, causal=True):
    """key_blocks[h][query_tile] = list of key-block indices -> bool mask [H, T, T] (True = attend).
    The token-level causal mask is applied on top when `causal`."""
    heads = len(key_blocks)
    n_tiles = -(-tokens // tile)
    block_mask = torch.zeros(heads, n_tiles, n_tiles, dtype=torch.bool)
    for h, tiles in enumerate(key_blocks):
        for qt, blocks in enumerate(tiles):
            if len(blocks):
                block_mask[h, qt, torch.as_tensor(list(blocks), dtype=torch.int64)] = True
    mask = block_mask.repeat_interleave(tile, 1).repeat_interleave(tile, 2)[:, :tokens, :tokens]
    if causal:
        mask = mask & torch.ones(tokens, tokens, dtype=torch.bool).tril()
    return mask


def attention(qkv, heads, key_sets_or_mask=None, causal=True):
    """Exact softmax attention in float64, returned as float32 [T, C] (the engine's row layout, head h at columns
    h*d .. h*d+d-1). `key_sets_or_mask`: None (dense), a bool mask [T, T] or [H, T, T] (True = attend), or
    key-block lists [h][query_tile][blocks] of 16x16 tiles. The causal mask is applied on top when `causal`.
    A row with no key at all gives zeros (never happens with the diagonal forced in)."""
    qkv = torch.as_tensor(qkv)
    tokens = qkv.shape[0]
    q, k, v = (x.to(torch.float64) for x in split_heads(qkv, heads))
    d = q.shape[-1]
    if key_sets_or_mask is None:
        mask = torch.ones(tokens, tokens, dtype=torch.bool)
    elif isinstance(key_sets_or_mask, torch.Tensor):
        mask = key_sets_or_mask.to(torch.bool)
    else:
        mask = block_lists_to_mask(key_sets_or_mask, tokens, causal=False)
    if causal:
        mask = mask & torch.ones(tokens, tokens, dtype=torch.bool).tril()
    mask = mask.expand(heads, tokens, tokens)
    s = (q @ k.transpose(1, 2)) / math.sqrt(d)
    s = s.masked_fill(~mask, float('-inf'))
    row_max = s.amax(dim=-1, keepdim=True)
    row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    p = torch.exp(s - row_max)
    denom = p.sum(dim=-1, keepdim=True)
    o = (p @ v) / torch.where(denom > 0, denom, torch.ones_like(denom))
    return o.transpose(0, 1).reshape(tokens, heads * d).to(torch.float32)


# ---------------------------------------------------------------------------------------------------------------
# Fixture I/O

def b64_f32(array) -> str:
    """Little-endian float32 bytes of `array` (any shape, row-major) as base64."""
    t = torch.as_tensor(array).detach().to(torch.float32).contiguous().reshape(-1)
    raw = struct.pack(f'<{t.numel()}f', *t.tolist())
    return base64.b64encode(raw).decode('ascii')


def f32_from_b64(text, shape=None) -> torch.Tensor:
    raw = base64.b64decode(text)
    t = torch.tensor(struct.unpack(f'<{len(raw) // 4}f', raw), dtype=torch.float32)
    return t.reshape(shape) if shape is not None else t


def output_rows(tokens) -> list:
    """The rows stored in fixtures: every 4th row (i % 4 == 3) plus the last row, ascending, no duplicates."""
    rows = list(range(3, tokens, 4))
    if not rows or rows[-1] != tokens - 1:
        rows.append(tokens - 1)
    return rows


def write_json(path, obj):
    """Compact JSON with one top-level key per line (small diffs, small files)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f'  {json.dumps(key)}: {json.dumps(value, separators=(",", ":"))}' for key, value in obj.items()]
    path.write_text('{\n' + ',\n'.join(lines) + '\n}\n')
    return path.stat().st_size
