#!/usr/bin/python3
"""Trains recall-lm, the zoo's GPT-2 for long-context retrieval, and writes its Hugging Face-layout folder.

recall-lm is a GPT-2 (Hugging Face names and config keys, so the loader that takes the hub `gpt2` takes it too)
over a 70-character vocabulary with n_positions 1024, trained on needle-in-a-haystack key->value retrieval inside
filler text, strict multi-query associative recall, copy and sort (tasks and formats: tools/recall_lm_data.py).

Writes public/models/recall-lm/{config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
onnx/model.onnx, eval.json, training.json, README.md}.

The model module and the safetensors writer are the ones in tools/make_tiny_gpt2.py (its `TinyGpt2` is
operation-for-operation Hugging Face's GPT2LMHeadModel without dropout): training adds dropout and position offsets
in `RecallLm.train_logits`, and evaluation, the ONNX export and the stored weights all use the unmodified
`TinyGpt2.forward`. Deterministic: fixed seeds, one thread, no checkpoints (rerunning reproduces the run on the
same torch build and BLAS).

Run it in the background at low priority (about 45-60 minutes on one core with OpenBLAS):
  OMP_NUM_THREADS=1 nohup setsid nice -n 19 /usr/bin/python3 tools/train_recall_lm.py > /tmp/recall_lm_train.log 2>&1 &
Smoke test of the whole pipeline in a minute:  /usr/bin/python3 tools/train_recall_lm.py --quick --out /tmp/recall-lm-quick
"""
import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import onnx
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_tiny_gpt2 import TinyGpt2, read_safetensors, write_safetensors  # noqa: E402
from training_common import NO_STAGE, MaskBank, cosine_learning_rate, joined_stages, keep_freed_memory, stage1_record  # noqa: E402
import recall_lm_data as data  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / 'public/models/recall-lm'

SEED = 20261130
EVAL_SEED = 1024          # eval.json (the published evaluation set)
PROBE_SEED = 777          # small probe set scored during training
HELDOUT_SEED = 4242       # larger held-out grid scored once at the end (reported in the card)
CONFIG = {
    'n_layer': 2,
    'n_head': 4,
    'n_embd': 64,
    'n_positions': 1024,
    'vocab_size': len(data.VOCAB),
    'layer_norm_epsilon': 1e-5,
}
DROPOUT = 0.1
INIT_STD = 0.125          # ~1/sqrt(n_embd); GPT-2's 0.02 leaves attention flat for hundreds of steps
POSITION_SCALE = 0.1      # wpe starts as 0.1 * sinusoid (learnable)
AUX_WEIGHT = 0.25         # next-character loss on every position, next to the answer loss
LR_MAX, LR_MIN, WARMUP = 1e-2, 1e-3, 100
BETAS, WEIGHT_DECAY, CLIP = (0.9, 0.95), 0.1, 1.0

# Curriculum: (name, sequence length T, batch, steps, task mix, dropout). Sequences shorter than 1024 start at a
# random position offset so every row of wpe trains while most steps are cheap. Dropout is off while the induction
# circuit forms: measured here at T=64, dense recall reached answer loss 0.13 in 800 steps without dropout and was
# still at 1.65-1.8 with p=0.1 (nn.Dropout or the mask bank alike); the rest of training runs at p=0.1.
PHASES = [
    ('warm-up', 64, 64, 200, {'repeat': 1.0}, 0.0),
    ('recall-64', 64, 64, 3000, {'recall': 0.7, 'copysort': 0.3}, 0.0),
    ('haystack-128', 128, 64, 1000, {'needle': 0.45, 'recall': 0.35, 'copysort': 0.2}, DROPOUT),
    ('haystack-256', 256, 32, 800, {'needle': 0.5, 'recall': 0.35, 'copysort': 0.15}, DROPOUT),
    ('haystack-512', 512, 16, 800, {'needle': 0.5, 'recall': 0.35, 'copysort': 0.15}, DROPOUT),
    ('haystack-1024', 1024, 8, 1000, {'needle': 0.5, 'recall': 0.35, 'copysort': 0.15}, DROPOUT),
]
# Stage 2: more T=1024 steps, needles weighted up, with a fresh optimizer and its own short cosine. Stage 1 alone left
# the 1024-token cell at 0.49 (it finds the right needle but loses later digits) while its answer loss was still
# falling when the schedule hit its floor (1,500 steps of stage 2 gave 0.53, these 3,000 give 0.91). Stage 2
# resumes from stage 1's weights, so `--stage1-from DIR` (a folder this script wrote) can skip the hour stage 1 takes
# and give the same model.
REFINE_PHASES = [
    ('refine-1024', 1024, 8, 3000, {'needle': 0.6, 'recall': 0.3, 'copysort': 0.1}, DROPOUT),
]
REFINE_LR_MAX, REFINE_LR_MIN, REFINE_WARMUP = 2e-3, 1e-4, 50
REFINE_SEED = SEED + 7
LOG_EVERY, PRINT_EVERY = 10, 50


class RecallLm(TinyGpt2):
    """TinyGpt2 (Hugging Face GPT-2 module tree and names) plus a training forward with dropout at GPT-2's sites
    (embeddings, attention probabilities, both residual branches) and per-sequence position offsets."""

    def train_logits(self, input_ids, offsets, dropout):
        batch, tokens = input_ids.shape
        d, heads = self.wte.weight.shape[1], self.h[0].attn.n_head
        head_dim = d // heads
        positions = offsets.view(-1, 1) + torch.arange(tokens).view(1, -1)
        x = dropout(self.wte(input_ids) + self.wpe(positions))
        causal = causal_bias(tokens)
        for block in self.h:
            attn = block.attn
            q, k, v = (t.view(batch, tokens, heads, head_dim).transpose(1, 2)
                       for t in attn.c_attn(block.ln_1(x)).split(d, dim=2))
            scores = (q * (1.0 / math.sqrt(head_dim))) @ k.transpose(-1, -2) + causal
            probs = dropout(F.softmax(scores, dim=-1))
            x = x + dropout(attn.c_proj((probs @ v).transpose(1, 2).reshape(batch, tokens, d)))
            x = x + dropout(block.mlp(block.ln_2(x)))
        return self.ln_f(x) @ self.wte.weight.t()


_CAUSAL = {}


def causal_bias(tokens):
    if tokens not in _CAUSAL:
        _CAUSAL[tokens] = torch.full((tokens, tokens), float('-inf')).triu(1)
    return _CAUSAL[tokens]


def initialise(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name == 'wpe.weight':
                n, d = param.shape
                position = torch.arange(n, dtype=torch.float32).view(-1, 1)
                frequency = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
                param[:, 0::2] = torch.sin(position * frequency) * POSITION_SCALE
                param[:, 1::2] = torch.cos(position * frequency) * POSITION_SCALE
            elif '.ln_' in name or name.startswith('ln_f.'):
                param.fill_(1.0 if name.endswith('.weight') else 0.0)
            elif name.endswith('.bias'):
                param.zero_()
            else:
                param.copy_(torch.randn(param.shape, generator=generator) * INIT_STD)


def make_batch(rng, length, batch, mix):
    ids = torch.empty(batch, length, dtype=torch.int64)
    answer = torch.zeros(batch, length, dtype=torch.bool)
    for b in range(batch):
        text, spans = data.training_example(rng, length, mix)
        ids[b] = torch.tensor(data.encode(text))
        for start, end in spans:
            answer[b, start:end] = True
    offsets = torch.tensor([rng.randrange(CONFIG['n_positions'] - length + 1) for _ in range(batch)])
    return ids, answer, offsets


STAGE1_SCHEDULE = {'warmup': WARMUP, 'lr_max': LR_MAX, 'lr_min': LR_MIN, 'seed': SEED}
STAGE2_SCHEDULE = {'warmup': REFINE_WARMUP, 'lr_max': REFINE_LR_MAX, 'lr_min': REFINE_LR_MIN, 'seed': REFINE_SEED}


@torch.no_grad()
def score(model, items, chunk_tokens=8192):
    """Exact match per item: greedy decoding of the answer equals teacher-forced argmax at every answer position
    (the prefix stays correct as long as every earlier answer character is), so one forward pass over
    prompt + answer scores an item. Items are batched by length; shorter ones are right-padded, which a causal
    model cannot see."""
    model.eval()
    results = [None] * len(items)
    order = sorted(range(len(items)), key=lambda i: items[i]['length'])
    i = 0
    while i < len(order):
        group = [order[i]]
        while i + len(group) < len(order) and \
                (len(group) + 1) * items[order[i + len(group)]]['length'] <= chunk_tokens:
            group.append(order[i + len(group)])
        i += len(group)
        width = max(items[j]['length'] for j in group)
        ids = torch.full((len(group), width), data.TOKEN_ID[' '], dtype=torch.int64)
        for row, j in enumerate(group):
            ids[row, :items[j]['length']] = torch.tensor(data.encode(items[j]['prompt'] + items[j]['answer']))
        predicted = model(ids).argmax(-1)
        for row, j in enumerate(group):
            start, end = len(items[j]['prompt']), items[j]['length']
            guess = data.decode(predicted[row, start - 1:end - 1].tolist())
            results[j] = guess
    return [(guess == item['answer'], guess) for guess, item in zip(results, items)]


def summarise(items, outcomes):
    grid, tasks = {}, {}
    for item, (ok, _) in zip(items, outcomes):
        if item['task'] == 'needle':
            cell = grid.setdefault(str(item['length']), {}).setdefault(str(item['depth']), [0, 0])
        else:
            cell = tasks.setdefault(item['task'], [0, 0])
        cell[0] += ok
        cell[1] += 1
    needle = {length: {depth: round(c[0] / c[1], 4) for depth, c in row.items()} for length, row in grid.items()}
    by_length = {length: round(sum(c[0] for c in row.values()) / sum(c[1] for c in row.values()), 4)
                 for length, row in grid.items()}
    return {'needle': needle, 'needle_by_length': by_length,
            **{task: round(c[0] / c[1], 4) for task, c in tasks.items()},
            'counts': {'needle_per_cell': next(iter(next(iter(grid.values())).values()))[1] if grid else 0,
                       **{task: c[1] for task, c in tasks.items()}}}


def train(model, phases, probe, schedule, first_step=0):
    """One stage: AdamW from fresh state, cosine lr over the stage's steps. Logged step numbers continue from
    `first_step`, so the curves of both stages read as one run."""
    rng = random.Random(schedule['seed'])
    dropout = MaskBank(DROPOUT, 40_000_000 if max(p[1] for p in phases) > 512 else 12_000_000, schedule['seed'] + 1)
    assert all(p[5] in (0.0, DROPOUT) for p in phases)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() != 2]
    optimizer = torch.optim.AdamW([{'params': decay, 'weight_decay': WEIGHT_DECAY},
                                   {'params': no_decay, 'weight_decay': 0.0}], lr=schedule['lr_max'], betas=BETAS)
    total = sum(p[3] for p in phases)
    history, evals = [], []
    started, cpu_started = time.time(), time.process_time()
    step = 0
    window = []
    for phase_index, (name, length, batch, steps, mix, p) in enumerate(phases):
        print(f'== phase {name}: T={length} batch={batch} steps={steps} mix={mix} dropout={p}', flush=True)
        drop = dropout if p > 0 else (lambda x: x)
        for _ in range(steps):
            lr = cosine_learning_rate(step, total, schedule['warmup'], schedule['lr_max'], schedule['lr_min'])
            for group in optimizer.param_groups:
                group['lr'] = lr
            ids, answer, offsets = make_batch(rng, length, batch, mix)
            model.train()
            logits = model.train_logits(ids, offsets, drop)[:, :-1]
            losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                                     reduction='none').view(batch, length - 1)
            mask = answer[:, 1:].float()
            answer_loss = (losses * mask).sum() / mask.sum().clamp(min=1.0)
            all_loss = losses.mean()
            loss = answer_loss + AUX_WEIGHT * all_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            optimizer.step()
            step += 1
            window.append((answer_loss.item(), all_loss.item()))
            if step % LOG_EVERY == 0 or step == total:
                history.append({'step': first_step + step, 'phase': name, 'T': length, 'batch': batch,
                                'answer_loss': round(sum(w[0] for w in window) / len(window), 5),
                                'char_loss': round(sum(w[1] for w in window) / len(window), 5),
                                'loss': round(sum(w[0] + AUX_WEIGHT * w[1] for w in window) / len(window), 5),
                                'lr': round(lr, 7), 'elapsed_s': round(time.time() - started, 1),
                                'cpu_s': round(time.process_time() - cpu_started, 1)})
                window = []
                if step % PRINT_EVERY == 0 or step == total:
                    h = history[-1]
                    print(f"step {first_step + step:5d}/{first_step + total} {name} T={length} loss {h['loss']:.4f} "
                          f"(answer {h['answer_loss']:.4f}, chars {h['char_loss']:.4f}) lr {lr:.2e} "
                          f"elapsed {h['elapsed_s']:.0f}s (cpu {h['cpu_s']:.0f}s)", flush=True)
            last_of_phase = step == sum(p[3] for p in phases[:phase_index + 1])
            if probe and (step % probe['every'] == 0 or last_of_phase):
                t0 = time.time()
                outcomes = score(model, probe['items'])
                summary = summarise(probe['items'], outcomes)
                evals.append({'step': first_step + step, 'elapsed_s': round(time.time() - started, 1), **summary})
                lengths = ' '.join(f'{k}:{v:.2f}' for k, v in summary['needle_by_length'].items())
                print(f"  eval @ {first_step + step}: needle {lengths} | copy {summary.get('copy', 0):.2f} "
                      f"sort {summary.get('sort', 0):.2f} ({time.time() - t0:.1f}s)", flush=True)
                for item, (ok, guess) in zip(probe['items'], outcomes):
                    if item['task'] == 'needle' and item['length'] == 1024 and item['depth'] == 0.5:
                        print(f"    ...{item['prompt'][-40:]!r} -> {guess!r} (want {item['answer']!r})", flush=True)
                        break
                for item, (ok, guess) in zip(probe['items'], outcomes):
                    if item['task'] == 'sort':
                        print(f"    {item['prompt']!r} -> {guess!r} (want {item['answer']!r})", flush=True)
                        break
    return {'steps': history, 'evals': evals, 'wall_s': round(time.time() - started, 1),
            'cpu_s': round(time.process_time() - cpu_started, 1)}


def export_onnx(model, path):
    """opset 14, `input_ids` int64 [1, T] -> `logits` [1, T, vocab], T dynamic; the causal mask is built in-graph
    from T (TinyGpt2's attention), dropout does not exist in the inference module."""
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.tensor([data.encode('B042; the cat saw a dog. ?B')], dtype=torch.int64)
    torch.onnx.export(model, (example,), str(path), opset_version=14, do_constant_folding=False,
                      input_names=['input_ids'], output_names=['logits'],
                      dynamic_axes={'input_ids': {1: 'sequence'}, 'logits': {1: 'sequence'}})
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    return graph


def tokenizer_json():
    vocab = {token: index for index, token in enumerate(data.VOCAB)}
    return {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': data.TOKEN_ID[data.UNK], 'content': data.UNK, 'single_word': False, 'lstrip': False,
                          'rstrip': False, 'normalized': False, 'special': True}],
        'normalizer': None, 'pre_tokenizer': None, 'post_processor': None,
        # Fuse concatenates tokens; with no decoder at all, tokenizers (Rust) and transformers.js join with spaces.
        'decoder': {'type': 'Fuse'},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': data.UNK, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': []},
    }


def fmt_grid(summary):
    depths = ['0.0', '0.25', '0.5', '0.75', '1.0']
    lines = ['| context | ' + ' | '.join(f'depth {d}' for d in depths) + ' | mean |',
             '|---|' + '---|' * (len(depths) + 1)]
    for length, row in summary['needle'].items():
        lines.append(f'| {length} | ' + ' | '.join(f"{row[d]:.2f}" for d in depths) +
                     f" | **{summary['needle_by_length'][length]:.3f}** |")
    return '\n'.join(lines)


def model_card(parameter_count, result, final, heldout, sizes, quick):
    phases = '\n'.join(f'| {name} | {length} | {batch} | {steps} | '
                       + ', '.join(f'{k} {v:.0%}' for k, v in mix.items()) + f' | {p} |'
                       for name, length, batch, steps, mix, p in result['phases'])
    heldout_text = '' if heldout is None else f"""
A larger held-out grid (seed {HELDOUT_SEED}, {heldout['counts']['needle_per_cell']} sequences per cell, not stored)
gives the same picture with finer resolution:

{fmt_grid(heldout)}
"""
    return f"""# recall-lm
{'**QUICK SMOKE-TEST BUILD: a few training steps only; the numbers below are meaningless.**' if quick else ''}
A tiny GPT-2 trained from scratch to retrieve a value from a long context: the playground's default model, and the
one that sparse attention and KV-cache eviction are judged on (exact match by context length and needle depth).

## Task and text format
Character-level text over a {CONFIG['vocab_size']}-token vocabulary (`<unk>`, newline, space, `.,;?=`, digits,
A-Z, a-z; `tokenizer.json` is a Hugging Face BPE with no merges, so text tokenises into single characters).

- **needle** (the evaluated task): lowercase filler sentences with needles `K417; ` (an uppercase key letter
  immediately followed by its three-digit value) inserted at word starts, then the query `?K`; the answer is
  `417`. Keys are distinct in a sequence; one needle per 64 characters, so a 1024-token context holds the target
  and 15 distractors. Example (128 tokens):
  `{result['example']}`
- **recall** (training only): the same with every needle queried once at the end, `?K417?B052...`.
- **copy**: `copy x3kq9 = ` → `x3kq9.` (4-12 characters from a-z0-9)
- **sort**: `sort qdxa = ` → `adqx.` (3-10 distinct letters)

(copy and sort answers include the final `.`; in training they are packed into a sequence, one per line.)

## Architecture
Hugging Face `GPT2LMHeadModel`: {CONFIG['n_layer']} layers, {CONFIG['n_head']} heads, n_embd {CONFIG['n_embd']},
n_positions {CONFIG['n_positions']} (learned), GELU tanh approximation (`gelu_new`), pre-LayerNorm, LM head tied
to `wte`, dropout 0.1 at the embeddings, attention probabilities and both residual branches (in training from the
T=128 phase on; off during the T=64 phases, while the induction circuit forms).
**{parameter_count:,} parameters.** `bos_token_id`/`eos_token_id` are the newline, which separates copy/sort problems.

## Files
| file | bytes | |
|---|---|---|
{chr(10).join(f'| `{name}` | {size:,} | {what} |' for name, size, what in sizes)}

## Evaluation (`eval.json`)
`{{"format": ..., "items": [...]}}`; each item is
`{{"task": "needle" | "copy" | "sort", "length": L, "depth": d | null, "prompt": str, "answer": str}}` plus, for
needles, `"key"` and `"needle_index"` (the character index of the target needle `K417;` in the prompt).
`length` = len(prompt) + len(answer) = the context length in tokens (one character = one token, no BOS).
Needle cells: L ∈ {{128, 256, 512, 1024}} × depth ∈ {{0, 0.25, 0.5, 0.75, 1}} (the fraction of the filler before the
target needle: 0 = the first token, 1 = right before the query), {final['counts']['needle_per_cell']} sequences per
cell, plus {final['counts'].get('copy', 0)} copy and {final['counts'].get('sort', 0)} sort problems; seed {EVAL_SEED}.
**Scoring:** exact match of greedy decoding, computed in one forward pass over prompt + answer: the item is correct
when argmax(logits[t]) equals the next answer character at every t from len(prompt)-1 to length-2 (the same thing,
because the prefix stays correct as long as every earlier answer character is).

Dense accuracy measured in PyTorch on `eval.json`, with the inference module that is exported to `onnx/model.onnx`
(positions 0..L-1, no dropout):

{fmt_grid(final)}

copy: **{final.get('copy', 0):.3f}**, sort: **{final.get('sort', 0):.3f}**.
{heldout_text}
## Training
Deterministic (seed {SEED}), one CPU thread, torch {torch.__version__} with OpenBLAS: {sum(p[3] for p in result['phases']):,}
steps in **{result['cpu_s'] / 60:.1f} CPU-minutes** ({result['wall_s'] / 60:.1f} minutes wall-clock at `nice -n 19` on a
shared 2-core machine, probe evaluations included). AdamW (betas {BETAS}, weight decay {WEIGHT_DECAY} on
matrices and embeddings), lr {LR_MAX:g} with {WARMUP} warm-up steps then cosine to {LR_MIN:g}, gradient clip
{CLIP}. Stage 2 (the `refine` phase) starts from stage 1's weights with a fresh optimizer, lr {REFINE_LR_MAX:g} with
{REFINE_WARMUP} warm-up steps then cosine to {REFINE_LR_MIN:g}: stage 1 alone ended at 0.49 on the 1024-token cell
(the right needle found, later digits lost) with the answer loss still falling when its schedule hit the floor. Init N(0, {INIT_STD}) for matrices and token embeddings (≈1/√d; GPT-2's 0.02 leaves attention flat for
hundreds of steps), position embeddings {POSITION_SCALE}·sinusoid, LayerNorm (1, 0), biases 0. Loss: cross-entropy on
the answer characters + {AUX_WEIGHT} × next-character cross-entropy on every position. Sequences shorter than 1024
start at a random position offset in [0, 1024−T] so every position embedding trains. Dropout uses a pre-generated
seeded bank of keep/scale masks (same statistics as `nn.Dropout`, much cheaper here).

| phase | T | batch | steps | task mix | dropout |
|---|---|---|---|---|---|
{phases}

`training.json` has the loss, T, lr and elapsed time every {LOG_EVERY} steps (`steps`) and a probe evaluation
(a different seeded set, {result['probe_per_cell']} sequences per cell) at intervals (`evals`).

## Retrain
```
OMP_NUM_THREADS=1 nohup setsid nice -n 19 /usr/bin/python3 tools/train_recall_lm.py > /tmp/recall_lm_train.log 2>&1 &
```
(needs Debian's python3-torch and python3-onnx, and `libopenblas0-openmp` for speed: see
`../shared/notes/training-small-models.md`). `--quick --out DIR` runs a smoke test of the whole pipeline.
`--stage1-from DIR` (a folder this script wrote) skips stage 1 and refines DIR's weights: the same model, an hour sooner.
"""




def main():
    keep_freed_memory()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=Path, default=DEFAULT_OUT)
    parser.add_argument('--quick', action='store_true', help='a few steps per phase and small evaluations')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--pilot', type=int, default=0, help='only the T=64 phases, this many recall steps')
    parser.add_argument('--stage1-from', type=Path, help='a folder this script wrote: start stage 2 from its weights')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)

    phases = [(n, t, b, 3 if args.quick else s, m, p) for n, t, b, s, m, p in PHASES]
    refine_phases = [(n, t, b, 3 if args.quick else s, m, p) for n, t, b, s, m, p in REFINE_PHASES]
    if args.pilot:
        phases = phases[:2]
        phases[1] = phases[1][:3] + (args.pilot,) + phases[1][4:]
        refine_phases = []
    per_cell = 2 if args.quick else 20
    eval_items = data.evaluation_set(EVAL_SEED, per_cell, n_copy=4 if args.quick else 50,
                                     n_sort=4 if args.quick else 50)
    probe_per_cell = 1 if args.quick else 6
    probe = {'items': data.evaluation_set(PROBE_SEED, probe_per_cell, n_copy=2 if args.quick else 20,
                                          n_sort=2 if args.quick else 20),
             'every': 5 if args.quick else 250}

    model = RecallLm(CONFIG)
    initialise(model, SEED)
    parameter_count = sum(p.numel() for p in model.parameters())
    print(f'recall-lm: {parameter_count:,} parameters, config {CONFIG}, threads {torch.get_num_threads()}', flush=True)

    # The training forward (no dropout, offset 0) must be the inference forward the files describe.
    with torch.no_grad():
        ids = torch.tensor([data.encode(eval_items[0]['prompt'])])
        same = model.train_logits(ids, torch.zeros(1, dtype=torch.int64), lambda x: x)
        assert torch.allclose(same, model(ids), atol=1e-4), 'train_logits differs from TinyGpt2.forward'

    if args.stage1_from:
        model.load_state_dict(read_safetensors(args.stage1_from / 'model.safetensors'))
        stage1 = stage1_record(args.stage1_from, [p[0] for p in phases])
    else:
        stage1 = train(model, phases, probe, STAGE1_SCHEDULE)
    stage1_steps = sum(p[3] for p in phases)
    stage2 = train(model, refine_phases, probe, STAGE2_SCHEDULE, stage1_steps) if refine_phases else NO_STAGE
    result = joined_stages(stage1, stage2)
    result['phases'] = phases + refine_phases
    result['probe_per_cell'] = probe_per_cell
    model.eval()

    t0 = time.time()
    outcomes = score(model, eval_items)
    final = summarise(eval_items, outcomes)
    print(f'final eval.json ({time.time() - t0:.0f}s): {json.dumps(final)}', flush=True)
    heldout = None
    if not (args.quick or args.pilot):
        t0 = time.time()
        heldout_items = data.evaluation_set(HELDOUT_SEED, 100, n_copy=200, n_sort=200)
        heldout = summarise(heldout_items, score(model, heldout_items))
        print(f'held-out grid ({time.time() - t0:.0f}s): {json.dumps(heldout)}', flush=True)

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    config_json = {'model_type': 'gpt2', 'architectures': ['GPT2LMHeadModel'], **CONFIG,
                   'n_ctx': CONFIG['n_positions'], 'n_inner': None, 'activation_function': 'gelu_new',
                   'resid_pdrop': DROPOUT, 'embd_pdrop': DROPOUT, 'attn_pdrop': DROPOUT,
                   'initializer_range': INIT_STD, 'scale_attn_weights': True, 'tie_word_embeddings': True,
                   'bos_token_id': data.TOKEN_ID[data.SEPARATOR], 'eos_token_id': data.TOKEN_ID[data.SEPARATOR],
                   'use_cache': True}
    (out / 'config.json').write_text(json.dumps(config_json, indent=2) + '\n')

    tensors = model.state_dict()
    assert 'lm_head.weight' not in tensors
    write_safetensors(out / 'model.safetensors', tensors)

    (out / 'tokenizer.json').write_text(json.dumps(tokenizer_json(), ensure_ascii=False, indent=1) + '\n')
    (out / 'tokenizer_config.json').write_text(json.dumps({
        'tokenizer_class': 'PreTrainedTokenizerFast', 'model_max_length': CONFIG['n_positions'],
        'unk_token': data.UNK, 'clean_up_tokenization_spaces': False}, indent=2) + '\n')

    # Export the plain inference module (a fresh TinyGpt2 with the trained weights), not the training subclass.
    inference = TinyGpt2(CONFIG).eval()
    inference.load_state_dict(tensors)
    with torch.no_grad():
        graph = export_onnx(inference, out / 'onnx/model.onnx')
        probe_ids = torch.tensor([data.encode(eval_items[0]['prompt'] + eval_items[0]['answer'])])
        assert torch.equal(inference(probe_ids), model(probe_ids))
        assert torch.allclose(inference(probe_ids[:, :40]), inference(probe_ids)[:, :40], atol=1e-5), 'mask leaks'
    stored = sum(math.prod(init.dims) for init in graph.graph.initializer) + sum(
        math.prod(attr.t.dims) for node in graph.graph.node for attr in node.attribute if attr.type == attr.TENSOR)
    assert stored < parameter_count + 1000, f'the ONNX graph stores {stored - parameter_count} extra values'

    (out / 'eval.json').write_text(json.dumps({
        'format': 'recall-lm eval v1: see README.md#evaluation-evaljson',
        'seed': EVAL_SEED, 'scoring': 'exact match of greedy decoding of answer after prompt',
        'vocabulary': 'tokenizer.json (one character per token)',
        'items': eval_items,
    }, separators=(',', ':')) + '\n')

    training = {'model': 'recall-lm', 'parameters': parameter_count, 'seed': SEED, 'torch': torch.__version__,
                'threads': torch.get_num_threads(), 'wall_s': result['wall_s'], 'cpu_s': result['cpu_s'],
                'quick': args.quick,
                'phases': [{'name': n, 'T': t, 'batch': b, 'steps': s, 'mix': m, 'dropout': p}
                           for n, t, b, s, m, p in result['phases']],
                'stages': {'1': {'phases': len(phases), **STAGE1_SCHEDULE}, '2': {'phases': len(refine_phases), **STAGE2_SCHEDULE}},
                'hyperparameters': {'lr_max': LR_MAX, 'lr_min': LR_MIN, 'warmup': WARMUP, 'betas': BETAS,
                                    'weight_decay': WEIGHT_DECAY, 'clip': CLIP, 'dropout': DROPOUT,
                                    'init_std': INIT_STD, 'position_scale': POSITION_SCALE,
                                    'aux_weight': AUX_WEIGHT},
                'log_every': LOG_EVERY, 'steps': result['steps'], 'evals': result['evals'],
                'final_eval': final, 'heldout_eval': heldout}
    (out / 'training.json').write_text(json.dumps(training, separators=(',', ':')) + '\n')

    example = next(i for i in data.evaluation_set(EVAL_SEED + 1, 1, n_copy=0, n_sort=0) if i['length'] == 128)
    result['example'] = (example['prompt'] + '` → `' + example['answer']).replace('\n', '\\n')
    files = [('config.json', 'Hugging Face GPT-2 config'),
             ('model.safetensors', 'float32 weights, hub GPT-2 tensor names, Conv1D [in, out] layout, tied head'),
             ('tokenizer.json', 'Hugging Face tokenizers format'), ('tokenizer_config.json', ''),
             ('onnx/model.onnx', 'opset 14, `input_ids` int64 [1, T] → `logits` float32 [1, T, 70], dense reference'),
             ('eval.json', 'fixed evaluation set (below)'), ('training.json', 'loss/accuracy curves')]
    sizes = [(name, (out / name).stat().st_size, what) for name, what in files]
    (out / 'README.md').write_text(model_card(parameter_count, result, final, heldout, sizes, args.quick))

    print(f'parameters: {parameter_count:,}; training {result["wall_s"] / 60:.1f} min wall, '
          f'{result["cpu_s"] / 60:.1f} min cpu', flush=True)
    for name in [n for n, _ in files] + ['README.md']:
        print(f'{out / name}: {(out / name).stat().st_size:,} bytes', flush=True)
    print('final grid:\n' + fmt_grid(final), flush=True)
    print(f"copy {final.get('copy', 0):.3f} sort {final.get('sort', 0):.3f}", flush=True)


if __name__ == '__main__':
    main()
