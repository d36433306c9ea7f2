#!/usr/bin/python3
"""Builds the random-weight tiny GPT-2 that the engine is checked against until trained models land.

Writes, from a fixed seed (rerunning reproduces the same bytes on the same torch build):
  public/models/tiny-random-gpt2/{config.json, model.safetensors, onnx/model.onnx, README.md}
  src/engine/__fixtures__/tiny-gpt2-golden.json   (PyTorch logits the engine and ORT must reproduce)

The module below is written out by hand to mirror Hugging Face's GPT2LMHeadModel operation for operation,
so a file written here loads into `transformers` unchanged and a hub GPT-2 loads into our engine unchanged.

Run with Debian's Python, which has torch and onnx:  /usr/bin/python3 tools/make_tiny_gpt2.py
"""
import json
import math
import struct
from pathlib import Path

import onnx
import torch
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO_ROOT / 'public/models/tiny-random-gpt2'
GOLDEN_PATH = REPO_ROOT / 'src/engine/__fixtures__/tiny-gpt2-golden.json'

SEED = 20261129
CONFIG = {
    'n_layer': 4,
    'n_head': 4,
    'n_embd': 64,
    'n_positions': 1024,
    'vocab_size': 256,
    'layer_norm_epsilon': 1e-5,
}
# Larger than GPT-2's 0.02 so attention rows are peaked rather than near-uniform: uniform attention would hide
# masking and softmax bugs, and would make pruning and sparsity look free.
MATRIX_STD = 0.125
BIAS_STD = 0.02
# LayerNorm parameters are randomised too: at the usual (1, 0) init a kernel that forgets gamma or beta still passes.
LN_WEIGHT_STD = 0.1
LN_BIAS_STD = 0.05

GOLDEN_TEXT = 'Hello, sparse world!'
GOLDEN_SEQUENCE_LENGTH = 40


def gelu_new(x):
    """GPT-2's tanh approximation of GELU (Hugging Face's "gelu_new")."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Conv1D(torch.nn.Module):
    """Hugging Face's Conv1D: a linear layer whose weight is stored [in, out], the transpose of nn.Linear."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(n_in, n_out))
        self.bias = torch.nn.Parameter(torch.empty(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Attention(torch.nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_embd = n_embd
        self.n_head = n_head
        self.c_attn = Conv1D(n_embd, 3 * n_embd)
        self.c_proj = Conv1D(n_embd, n_embd)

    def forward(self, x):
        batch, tokens, _ = x.shape
        head_dim = self.n_embd // self.n_head
        q, k, v = (t.view(batch, tokens, self.n_head, head_dim).transpose(1, 2)
                   for t in self.c_attn(x).split(self.n_embd, dim=2))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(head_dim)
        # Built from the sequence length at run time: a stored n_positions² mask would add 4 MB to the ONNX file.
        positions = torch.arange(tokens, device=x.device)
        causal = positions.view(-1, 1) >= positions.view(1, -1)
        scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
        context = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, tokens, self.n_embd)
        return self.c_proj(context)


class Mlp(torch.nn.Module):
    def __init__(self, n_embd, n_inner=None):
        super().__init__()
        n_inner = n_inner or 4 * n_embd  # GPT-2's `"n_inner": null`
        self.c_fc = Conv1D(n_embd, n_inner)
        self.c_proj = Conv1D(n_inner, n_embd)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class Block(torch.nn.Module):
    def __init__(self, config):
        super().__init__()
        d, eps = config['n_embd'], config['layer_norm_epsilon']
        self.ln_1 = torch.nn.LayerNorm(d, eps=eps)
        self.attn = Attention(d, config['n_head'])
        self.ln_2 = torch.nn.LayerNorm(d, eps=eps)
        self.mlp = Mlp(d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyGpt2(torch.nn.Module):
    """GPT2LMHeadModel without dropout (inference only). The module tree mirrors Hugging Face's GPT2Model, so
    `state_dict()` yields exactly the hub checkpoint's tensor names (`wte.weight`, `h.0.attn.c_attn.weight`, ...)."""

    def __init__(self, config):
        super().__init__()
        self.wte = torch.nn.Embedding(config['vocab_size'], config['n_embd'])
        self.wpe = torch.nn.Embedding(config['n_positions'], config['n_embd'])
        self.h = torch.nn.ModuleList(Block(config) for _ in range(config['n_layer']))
        self.ln_f = torch.nn.LayerNorm(config['n_embd'], eps=config['layer_norm_epsilon'])

    def hidden_states(self, input_ids):
        """Residual stream after the embeddings and after each block (Hugging Face's `hidden_states` minus ln_f)."""
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.wte(input_ids) + self.wpe(positions)
        states = [x]
        for block in self.h:
            x = block(x)
            states.append(x)
        return states

    def forward(self, input_ids):
        final = self.ln_f(self.hidden_states(input_ids)[-1])
        return final @ self.wte.weight.t()  # LM head tied to the token embedding, as in GPT-2


def initialise(model, generator):
    """Draws every parameter in registration order from one seeded generator, so reruns give identical bytes."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=generator)
            is_layer_norm = name.startswith('ln_f.') or '.ln_' in name
            if is_layer_norm and name.endswith('.weight'):
                param.copy_(1.0 + noise * LN_WEIGHT_STD)
            elif is_layer_norm:
                param.copy_(noise * LN_BIAS_STD)
            elif name.endswith('.bias'):
                param.copy_(noise * BIAS_STD)
            else:
                param.copy_(noise * MATRIX_STD)


def write_safetensors(path, tensors):
    """Writes the safetensors format by hand (the `safetensors` package is not installable here), reads the file
    back and checks that every tensor round-trips exactly; returns what was read."""
    header = {'__metadata__': {'format': 'pt'}}
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        data = tensor.detach().contiguous().to(torch.float32).numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(',', ':')).encode('utf-8')
    # Padded with spaces (as the reference writer does) so the data starts 8-byte aligned for zero-copy views.
    header_bytes += b' ' * (-len(header_bytes) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(header_bytes)))
        f.write(header_bytes)
        for blob in blobs:
            f.write(blob)
    reloaded = read_safetensors(path)
    assert list(reloaded) == list(tensors), 'safetensors round trip changed the tensor list'
    for name, tensor in tensors.items():
        assert torch.equal(reloaded[name], tensor.detach().to(torch.float32)), f'safetensors round trip changed {name}'
    return reloaded


def read_safetensors(path):
    """Minimal reader for the files write_safetensors writes (float32 only)."""
    raw = path.read_bytes()
    (header_length,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + header_length])
    data = raw[8 + header_length:]
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        start, end = entry['data_offsets']
        tensors[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).reshape(entry['shape'])
    return tensors


def export_onnx(model, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.tensor([list(GOLDEN_TEXT.encode('utf-8'))], dtype=torch.int64)
    torch.onnx.export(
        model, (example,), str(path),
        opset_version=14,
        # Unfolded, the tied LM head stays Transpose(wte) instead of a second 64 KB copy of wte; ORT folds it at load.
        do_constant_folding=False,
        input_names=['input_ids'],
        output_names=['logits'],
        dynamic_axes={'input_ids': {1: 'sequence'}, 'logits': {1: 'sequence'}},
    )
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    return graph


def golden_sequence():
    """A fixed 40-byte sequence from a tiny LCG, independent of any library's random generator."""
    state = 12345
    ids = []
    for _ in range(GOLDEN_SEQUENCE_LENGTH):
        state = (1103515245 * state + 12345) % 2 ** 31
        ids.append(state >> 23)  # top 8 bits of 31
    return ids


def rounded(tensor):
    return [float(f'{value:.6g}') for value in tensor.reshape(-1).tolist()]


def golden_fixture(model):
    cases = []
    hidden_after_layer0 = None
    for name, ids in [('hello', list(GOLDEN_TEXT.encode('utf-8'))), ('lcg40', golden_sequence())]:
        input_ids = torch.tensor([ids], dtype=torch.int64)
        logits = model(input_ids)[0]
        cases.append({'name': name, 'input_ids': ids, 'logits': rounded(logits)})
        if hidden_after_layer0 is None:
            hidden_after_layer0 = rounded(model.hidden_states(input_ids)[1][0])
    return {
        'description': 'PyTorch (tools/make_tiny_gpt2.py) outputs of public/models/tiny-random-gpt2, 6 significant '
                       'digits. logits are [T, vocab_size] row-major; hidden_after_layer0 is the residual stream '
                       'after block 0 (before ln_f) for cases[0], [T, n_embd] row-major.',
        'torch_version': torch.__version__,
        'config': CONFIG,
        'cases': cases,
        'hidden_after_layer0': hidden_after_layer0,
    }


def model_card(parameter_count):
    return f"""# tiny-random-gpt2

A GPT-2 with **random weights** (seed {SEED}): it produces meaningless text. It exists so the WebGPU engine can be
checked for exact parity with PyTorch and onnxruntime-web before trained models land.

- Architecture: Hugging Face `GPT2LMHeadModel` — {CONFIG['n_layer']} layers, {CONFIG['n_head']} heads,
  n_embd {CONFIG['n_embd']}, n_positions {CONFIG['n_positions']}, GELU tanh approximation, LM head tied to `wte`.
- Vocabulary: the {CONFIG['vocab_size']} byte values; text is tokenised as its UTF-8 bytes.
- Parameters: {parameter_count:,}.
- Initialisation: N(0, {MATRIX_STD}) for matrices and embeddings (so attention is peaked, not uniform), N(0, {BIAS_STD})
  for biases, LayerNorm weight 1 + N(0, {LN_WEIGHT_STD}) and bias N(0, {LN_BIAS_STD}) so a kernel that ignores them fails.
- Files: `config.json` (Hugging Face keys), `model.safetensors` (hub GPT-2 tensor names, Conv1D [in, out] layout,
  float32), `onnx/model.onnx` (opset 14, `input_ids` int64 [1, T] → `logits` float32 [1, T, {CONFIG['vocab_size']}]).
- Golden outputs: `src/engine/__fixtures__/tiny-gpt2-golden.json`.

Regenerate everything (deterministic) with `/usr/bin/python3 tools/make_tiny_gpt2.py`.
"""


def main():
    model = TinyGpt2(CONFIG).eval()
    initialise(model, torch.Generator().manual_seed(SEED))
    tensors = model.state_dict()
    parameter_count = sum(t.numel() for t in tensors.values())

    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    config_json = {
        'model_type': 'gpt2',
        'architectures': ['GPT2LMHeadModel'],
        **CONFIG,
        'n_ctx': CONFIG['n_positions'],
        'activation_function': 'gelu_new',
    }
    (MODEL_DIR / 'config.json').write_text(json.dumps(config_json, indent=2) + '\n')

    safetensors_path = MODEL_DIR / 'model.safetensors'
    write_safetensors(safetensors_path, tensors)

    onnx_path = MODEL_DIR / 'onnx/model.onnx'
    with torch.no_grad():
        graph = export_onnx(model, onnx_path)
        golden = golden_fixture(model)
        # Causality: a prefix must get exactly the logits its positions get inside the longer sequence.
        sequence = torch.tensor([golden_sequence()], dtype=torch.int64)
        assert torch.allclose(model(sequence[:, :17]), model(sequence)[:, :17], atol=1e-5), 'the causal mask leaks'
    stored_values = sum(math.prod(init.dims) for init in graph.graph.initializer) + sum(
        math.prod(attr.t.dims) for node in graph.graph.node for attr in node.attribute if attr.type == attr.TENSOR)
    assert stored_values < parameter_count + 1000, \
        f'the ONNX graph stores {stored_values - parameter_count} values beyond the weights (a folded mask or copy?)'

    (MODEL_DIR / 'README.md').write_text(model_card(parameter_count))
    GOLDEN_PATH.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN_PATH.write_text(json.dumps(golden, separators=(',', ':')) + '\n')

    print(f'parameters:        {parameter_count:,}')
    for path in [MODEL_DIR / 'config.json', safetensors_path, onnx_path, MODEL_DIR / 'README.md', GOLDEN_PATH]:
        print(f'{path.relative_to(REPO_ROOT)}: {path.stat().st_size:,} bytes')
    for case in golden['cases']:
        print(f"golden {case['name']}: T={len(case['input_ids'])}, "
              f"|logit| max {max(abs(v) for v in case['logits']):.3f}")


if __name__ == '__main__':
    main()
