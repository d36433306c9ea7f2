#!/usr/bin/python3
"""Trains shapes-vqa, the zoo's LLaVA-style tiny vision-language model, and writes its Hugging Face-like folder.

The model reads [64 image patch tokens][question tokens] and answers with the next token after "?":
  "what color is the circle ?" -> red      "how many squares ?" -> 2      "is there a red star ?" -> no
  "where is the triangle ?" -> top-left    "how many shapes ?" -> 3
Images are 64x64 scenes of 1-3 coloured shapes on a quiet textured background, drawn by tools/shapes_data.py.
It is decoder-only with GPT-2 blocks and a prefix-LM mask (image tokens attend bidirectionally among themselves and
never to text; text is causal and sees every image token) -- the setting FastV-style visual-token pruning studies.

Writes public/models/shapes-vqa/{config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
onnx/model.onnx, eval.json, training.json, README.md}; the model card documents every format.

Deterministic: fixed seeds, one thread, no checkpoints (rerunning reproduces the run on the same torch build and BLAS).
Run it in the background at low priority (about an hour on a shared core with OpenBLAS):
  nohup setsid nice -n 19 env OMP_NUM_THREADS=1 /usr/bin/python3 tools/train_shapes_vqa.py > /tmp/shapes_vqa_train.log 2>&1 &
Smoke test of the whole pipeline in a minute:  /usr/bin/python3 tools/train_shapes_vqa.py --quick --out /tmp/shapes-vqa-quick
"""
import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_tiny_gpt2 import Conv1D, Mlp, read_safetensors, write_safetensors  # noqa: E402
from training_common import NO_STAGE, MaskBank, cosine_learning_rate, joined_stages, keep_freed_memory, stage1_record  # noqa: E402
import shapes_data  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / 'public/models/shapes-vqa'

SEED = 20261201
TRAIN_IMAGES_SEED = 11    # the fixed, pre-drawn training images
EVAL_SEED = 2024          # eval.json (the published evaluation set)
PROBE_SEED = 777          # small probe set scored during training
HELDOUT_SEED = 4242       # larger held-out set scored once at the end (reported in the card, not stored)

IMAGE_SIZE, PATCH_SIZE = 64, 8
GRID = IMAGE_SIZE // PATCH_SIZE
NUM_IMAGE_TOKENS = GRID * GRID
IMAGE_MEAN, IMAGE_STD = 0.5, 0.5          # pixel / 255, then (x - mean) / std, as shapes_data.render_float
# Scenes: shapes_data's objects, renderer and background, but placed by `sample_scene` below: object centres on a
# 4-pixel lattice (patch centres and patch corners), so a shape meets the 8x8 patch grid in only 4 sub-patch phases
# per axis instead of 16 -- learning shapes from linear patch embeddings was the prototype's bottleneck, and in a
# first run here with free placement the per-patch shape accuracy plateaued near 35% for 500 steps. Also larger
# shapes (circumradius 9-12 px) and a quieter background (5 grey levels 3 apart instead of 6).
SCENE = {'counts': (1, 2, 3), 'radius': (9, 12), 'min_gap': 3, 'snap': 4,
         'background': {'grid': 4, 'levels': 5, 'step': 3}}
WHERE_MARGIN = 3          # "where is X ?" is asked only when X's centre is >= 3 px from both midlines

SHAPES = shapes_data.SHAPES
COLOURS = shapes_data.COLOUR_NAMES
PLURAL = {'circle': 'circles', 'square': 'squares', 'triangle': 'triangles', 'star': 'stars'}
QUADRANTS = ('top-left', 'top-right', 'bottom-left', 'bottom-right')
PAD, UNK = '<pad>', '<unk>'
VOCAB = ([PAD, UNK, '?', 'what', 'color', 'is', 'the', 'how', 'many', 'there', 'a', 'where']
         + list(SHAPES) + [PLURAL[s] for s in SHAPES] + ['shapes'] + list(COLOURS)
         + ['yes', 'no', '0', '1', '2', '3'] + list(QUADRANTS))
TOKEN_ID = {token: index for index, token in enumerate(VOCAB)}
QUESTION_TYPES = ('color', 'count', 'exists', 'where')
ANSWERS = {'color': list(COLOURS), 'count': ['0', '1', '2', '3'], 'exists': ['yes', 'no'], 'where': list(QUADRANTS)}

CONFIG = {
    'n_layer': 4,
    'n_head': 4,
    'n_embd': 128,
    'n_inner': 512,
    'layer_norm_epsilon': 1e-5,
    'image_size': IMAGE_SIZE,
    'patch_size': PATCH_SIZE,
    'num_channels': 3,
    'num_image_tokens': NUM_IMAGE_TOKENS,
    'max_text_tokens': 8,
    'vocab_size': len(VOCAB),
}
DROPOUT = 0.1
INIT_STD = 0.02
# image_pos starts as a 2-D sinusoid (rows in half the channels, columns in the other) at full scale: at 0.1 scale the
# patch content soon dwarfed it and "where" stayed at chance for a whole 2,400-step run (the answer logits of the four
# quadrants within 0.15 of each other, no linear trace of the object's quadrant in the "?" token at any layer); in a
# 300-step one-object A/B run, scale 1.0 answered "where" on one-object scenes 79% right vs 28% at 0.1.
POSITION_SCALE = 1.0
LR_MAX, LR_MIN, WARMUP = 2e-3, 1e-4, 150
BETAS, WEIGHT_DECAY, CLIP = (0.9, 0.98), 0.05, 1.0
# Auxiliary per-patch loss (training only, its heads are not part of the model): every image token, after all but
# the last block, is asked which shape and which colour covers its patch (or background). It stands in for the
# pretrained vision encoder a real LLaVA starts from, and gives 64 labels per image instead of one answer bit.
AUX_WEIGHT = 0.5
AUX_MIN_PIXELS = 8        # a patch belongs to an object when >= 8 of its 64 pixels are the object's
BATCH_IMAGES, QUESTIONS_PER_IMAGE = 32, 8
TRAIN_IMAGES = 24000      # pre-drawn once; every batch also flips half its images left-right (answers follow)
# Curriculum: (name, steps, question-type mix, dropout, objects per scene). Scenes with one object first (answers
# need no binding of the question's shape to one of several objects, so colour and position read-out form first),
# colour and count weighted up, no dropout while these circuits form (as recall-lm does for its induction circuit);
# then 1-2 objects; then the full task with dropout 0.1.
PHASES = [
    ('one-object', 300, {'color': 0.3, 'count': 0.3, 'exists': 0.2, 'where': 0.2}, 0.0, (1,)),
    ('two-objects', 400, {'color': 0.25, 'count': 0.25, 'exists': 0.25, 'where': 0.25}, 0.0, (1, 2)),
    ('all', 2000, {'color': 0.25, 'count': 0.25, 'exists': 0.25, 'where': 0.25}, DROPOUT, (1, 2, 3)),
]
# Stage 2: the full task again from stage 1's weights, with a fresh optimizer, a short low cosine and answers only
# (the auxiliary heads are not part of the model folder, so `--stage1-from DIR` can resume from any folder this
# script wrote). Stage 1's answer loss was still falling when its schedule reached the floor.
REFINE_PHASES = [
    ('refine', 1500, {'color': 0.2, 'count': 0.25, 'exists': 0.3, 'where': 0.25}, DROPOUT, (1, 2, 3)),
]
STAGE1_SCHEDULE = {'warmup': WARMUP, 'lr_max': LR_MAX, 'lr_min': LR_MIN, 'seed': SEED}
STAGE2_SCHEDULE = {'warmup': 50, 'lr_max': 6e-4, 'lr_min': 3e-5, 'seed': SEED + 7}
LOG_EVERY, PRINT_EVERY, PROBE_EVERY = 10, 50, 300


# ----------------------------------------------------------------------------------------------------------------
# Questions

def encode(text):
    return [TOKEN_ID.get(word, TOKEN_ID[UNK]) for word in text.lower().split()]


def decode(ids):
    return ' '.join(VOCAB[i] for i in ids)


def quadrant(obj):
    cx, cy = obj['centre']
    half = IMAGE_SIZE / 2
    return ('top' if cy < half else 'bottom') + '-' + ('left' if cx < half else 'right')


def ask(rng, scene, qtype):
    """One question of `qtype` about the scene: (question text, answer word, indices of the objects it is about),
    or None when the scene cannot support that type (e.g. no shape occurs exactly once)."""
    objects = scene['objects']
    counts = {s: sum(o['shape'] == s for o in objects) for s in SHAPES}
    if qtype == 'color':
        unique = [i for i, o in enumerate(objects) if counts[o['shape']] == 1]
        if not unique:
            return None
        i = rng.choice(unique)
        return f"what color is the {objects[i]['shape']} ?", objects[i]['colour'], [i]
    if qtype == 'where':
        half = IMAGE_SIZE / 2
        unique = [i for i, o in enumerate(objects) if counts[o['shape']] == 1
                  and abs(o['centre'][0] - half) >= WHERE_MARGIN and abs(o['centre'][1] - half) >= WHERE_MARGIN]
        if not unique:
            return None
        i = rng.choice(unique)
        return f"where is the {objects[i]['shape']} ?", quadrant(objects[i]), [i]
    if qtype == 'count':
        if rng.random() < 0.2:
            return 'how many shapes ?', str(len(objects)), list(range(len(objects)))
        shape = rng.choice(objects)['shape'] if rng.random() < 0.5 else rng.choice(SHAPES)
        return (f'how many {PLURAL[shape]} ?', str(counts[shape]),
                [i for i, o in enumerate(objects) if o['shape'] == shape])
    if qtype == 'exists':
        present = {(o['colour'], o['shape']) for o in objects}
        if rng.random() < 0.5:
            i = rng.randrange(len(objects))
            return f"is there a {objects[i]['colour']} {objects[i]['shape']} ?", 'yes', [i]
        if rng.random() < 0.5:
            # Hard negative: a present colour with another shape, or a present shape in another colour.
            o = rng.choice(objects)
            options = ([(o['colour'], s) for s in SHAPES] if rng.random() < 0.5 else [(c, o['shape']) for c in COLOURS])
        else:
            options = [(c, s) for c in COLOURS for s in SHAPES]
        options = [pair for pair in options if pair not in present]
        colour, shape = rng.choice(options)
        return f'is there a {colour} {shape} ?', 'no', []
    raise ValueError(qtype)


def ask_mixed(rng, scene, mix):
    """A question whose type is drawn from `mix`, falling back to another type when the scene cannot support it."""
    types = list(mix)
    qtype = rng.choices(types, weights=[mix[t] for t in types])[0]
    for candidate in [qtype] + rng.sample(types, len(types)):
        asked = ask(rng, scene, candidate)
        if asked is not None:
            return candidate, asked
    raise RuntimeError('no question possible')  # count and exists always are


def flipped(scene):
    """The scene mirrored left-right (all four shapes are left-right symmetric)."""
    return {**scene, 'objects': [{**o, 'centre': [IMAGE_SIZE - o['centre'][0], o['centre'][1]]}
                                 for o in scene['objects']]}


# ----------------------------------------------------------------------------------------------------------------
# Images

def patch_coverage(scene):
    """objects x GRID x GRID array: how many pixels of each patch each object covers."""
    out = []
    for o in scene['objects']:
        mask = shapes_data.shape_mask(o['shape'], o['centre'], o['radius'], IMAGE_SIZE)
        out.append(mask.reshape(GRID, PATCH_SIZE, GRID, PATCH_SIZE).sum(axis=(1, 3)))
    return np.stack(out)


def patch_labels(scene):
    """Per-patch (shape, colour) class for the auxiliary loss: 0 = background, else 1 + index."""
    coverage = patch_coverage(scene)
    best = coverage.argmax(0)
    covered = coverage.max(0) >= AUX_MIN_PIXELS
    shape = np.zeros((GRID, GRID), dtype=np.int64)
    colour = np.zeros((GRID, GRID), dtype=np.int64)
    for k, o in enumerate(scene['objects']):
        sel = covered & (best == k)
        shape[sel] = 1 + SHAPES.index(o['shape'])
        colour[sel] = 1 + COLOURS.index(o['colour'])
    return shape, colour


def sample_scene(rng, counts=SCENE['counts'], radius=SCENE['radius'], min_gap=SCENE['min_gap'], snap=SCENE['snap'],
                 background=SCENE['background']):
    """A shapes_data scene (same dict format, rendered by shapes_data.render) whose object centres lie on a
    `snap`-pixel lattice; objects never overlap (circumcircles >= min_gap apart) and lie fully inside the image."""
    n_objects = int(counts[int(rng.integers(0, len(counts)))])
    while True:
        objects = []
        for _ in range(n_objects):
            r = int(rng.integers(radius[0], radius[1] + 1))
            lattice = np.arange(snap * math.ceil((r + 1) / snap), IMAGE_SIZE - r, snap)
            for _attempt in range(50):
                cx, cy = (float(v) for v in rng.choice(lattice, size=2))
                if all((cx - o['centre'][0]) ** 2 + (cy - o['centre'][1]) ** 2 >= (r + o['radius'] + min_gap) ** 2
                       for o in objects):
                    break
            else:
                break
            objects.append({'shape': SHAPES[int(rng.integers(0, len(SHAPES)))],
                            'colour': COLOURS[int(rng.integers(0, len(COLOURS)))], 'centre': [cx, cy], 'radius': r})
        if len(objects) == n_objects:
            return {'size': IMAGE_SIZE, 'background': shapes_data.sample_background(rng, **background),
                    'objects': objects}


def sample_images(rng, n):
    scenes = [sample_scene(rng) for _ in range(n)]
    return scenes, np.stack([shapes_data.render(s) for s in scenes])


def draw_training_set(n, seed):
    rng = np.random.default_rng(seed)
    scenes, images = sample_images(rng, n)
    labels = [patch_labels(s) for s in scenes]
    shape = torch.tensor(np.stack([l[0] for l in labels]))
    colour = torch.tensor(np.stack([l[1] for l in labels]))
    by_count = {counts: [i for i, s in enumerate(scenes) if len(s['objects']) in counts] for *_, counts in PHASES}
    return {'scenes': scenes, 'images': torch.from_numpy(images), 'shape': shape, 'colour': colour,
            'by_count': by_count}


def normalise(images_u8):
    """N x H x W x 3 uint8 -> N x 3 x H x W float32 pixel_values."""
    return ((images_u8.float() / 255.0 - IMAGE_MEAN) / IMAGE_STD).permute(0, 3, 1, 2).contiguous()


def patchify(pixel_values):
    """N x 3 x H x W -> N x (H/p * W/p) x (3 p p): tokens in row-major patch order, each patch flattened in
    (channel, row, column) order -- the order of a ViT Conv2d patch-embedding kernel."""
    n = pixel_values.shape[0]
    x = pixel_values.reshape(n, 3, GRID, PATCH_SIZE, GRID, PATCH_SIZE)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(n, NUM_IMAGE_TOKENS, 3 * PATCH_SIZE * PATCH_SIZE)


# ----------------------------------------------------------------------------------------------------------------
# Model

class Attention(torch.nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_embd, self.n_head = n_embd, n_head
        self.c_attn = Conv1D(n_embd, 3 * n_embd)
        self.c_proj = Conv1D(n_embd, n_embd)


class Block(torch.nn.Module):
    def __init__(self, config):
        super().__init__()
        d, eps = config['n_embd'], config['layer_norm_epsilon']
        self.ln_1 = torch.nn.LayerNorm(d, eps=eps)
        self.attn = Attention(d, config['n_head'])
        self.ln_2 = torch.nn.LayerNorm(d, eps=eps)
        self.mlp = Mlp(d, config['n_inner'])


class ShapesVqa(torch.nn.Module):
    """state_dict names: wte.weight, wpe.weight, image_proj.{weight,bias}, image_pos, h.{i}.{ln_1,attn.c_attn,
    attn.c_proj,ln_2,mlp.c_fc,mlp.c_proj}.{weight,bias}, ln_f.{weight,bias}; Conv1D [in, out] layout; LM head tied
    to wte. `forward` is the inference graph (exported to ONNX); `train_forward` is the same computation split into
    an image stream and a text stream so that several questions share one image's work."""

    def __init__(self, config):
        super().__init__()
        d = config['n_embd']
        self.config = config
        self.wte = torch.nn.Embedding(config['vocab_size'], d)
        self.wpe = torch.nn.Embedding(config['max_text_tokens'], d)
        self.image_proj = Conv1D(config['num_channels'] * config['patch_size'] ** 2, d)
        self.image_pos = torch.nn.Parameter(torch.zeros(config['num_image_tokens'], d))
        self.h = torch.nn.ModuleList(Block(config) for _ in range(config['n_layer']))
        self.ln_f = torch.nn.LayerNorm(d, eps=config['layer_norm_epsilon'])

    def forward(self, pixel_values, input_ids):
        """pixel_values [B, 3, H, W] float32 (normalised), input_ids [B, T] int64 -> logits [B, T, vocab] for the
        text positions. Prefix-LM mask over the V + T tokens, built from T at run time:
        query i may attend key j  iff  j < V (every token sees every image token)  or  j <= i (text is causal);
        image queries (i < V) thus never see text."""
        batch, text_len = input_ids.shape
        d, heads, v = self.config['n_embd'], self.config['n_head'], self.config['num_image_tokens']
        head_dim = d // heads
        image = self.image_proj(patchify(pixel_values)) + self.image_pos
        text = self.wte(input_ids) + self.wpe(torch.arange(text_len, device=input_ids.device))
        x = torch.cat([image, text], dim=1)
        tokens = x.shape[1]
        positions = torch.arange(tokens, device=input_ids.device)
        allowed = (positions.view(1, -1) < v) | (positions.view(1, -1) <= positions.view(-1, 1))
        for block in self.h:
            q, k, vv = (t.view(batch, tokens, heads, head_dim).transpose(1, 2)
                        for t in block.attn.c_attn(block.ln_1(x)).split(d, dim=2))
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(head_dim)
            scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
            context = (F.softmax(scores, dim=-1) @ vv).transpose(1, 2).reshape(batch, tokens, d)
            x = x + block.attn.c_proj(context)
            x = x + block.mlp(block.ln_2(x))
        return self.ln_f(x[:, v:]) @ self.wte.weight.t()

    def train_forward(self, patches, text_ids, answer_pos, dropout, aux_layer):
        """patches [B, V, 3pp]; text_ids [B, K, Tq] (K questions per image, right-padded); answer_pos [B, K] index of
        each question's "?"; dropout at GPT-2's sites (embeddings, attention probabilities, both residual branches).
        Returns answer logits [B, K, vocab] and the image stream after `aux_layer` blocks [B, V, d].
        Identical to `forward` (checked in main) because image tokens never attend to text: the image stream is
        computed once per image and every question attends to its keys and values."""
        b, k, tq = text_ids.shape
        d, heads = self.config['n_embd'], self.config['n_head']
        head_dim = d // heads
        nv = patches.shape[1]
        xi = dropout(self.image_proj(patches) + self.image_pos)                                    # B V d
        xt = dropout(self.wte(text_ids) + self.wpe(torch.arange(tq)))                              # B K Tq d
        causal = torch.full((tq, tq), float('-inf')).triu(1)
        scale = 1.0 / math.sqrt(head_dim)
        aux = xi if aux_layer == 0 else None
        for index, block in enumerate(self.h):
            qi, ki, vi = (t.view(b, nv, heads, head_dim).transpose(1, 2)
                          for t in block.attn.c_attn(block.ln_1(xi)).split(d, dim=2))             # B H V hd
            qt, kt, vt = (t.view(b, k, tq, heads, head_dim).transpose(2, 3)
                          for t in block.attn.c_attn(block.ln_1(xt)).split(d, dim=3))             # B K H Tq hd
            probs_i = dropout(F.softmax((qi * scale) @ ki.transpose(-1, -2), dim=-1))
            ctx_i = (probs_i @ vi).transpose(1, 2).reshape(b, nv, d)
            s_img = torch.einsum('bkhqe,bhne->bkhqn', qt * scale, ki)                            # B K H Tq V
            s_txt = (qt * scale) @ kt.transpose(-1, -2) + causal                                  # B K H Tq Tq
            probs_t = dropout(F.softmax(torch.cat([s_img, s_txt], dim=-1), dim=-1))
            ctx_t = (torch.einsum('bkhqn,bhne->bkhqe', probs_t[..., :nv], vi)
                     + probs_t[..., nv:] @ vt).transpose(2, 3).reshape(b, k, tq, d)
            xi = xi + dropout(block.attn.c_proj(ctx_i))
            xt = xt + dropout(block.attn.c_proj(ctx_t))
            xi = xi + dropout(block.mlp(block.ln_2(xi)))
            xt = xt + dropout(block.mlp(block.ln_2(xt)))
            if index + 1 == aux_layer:
                aux = xi
        last = xt.gather(2, answer_pos.view(b, k, 1, 1).expand(b, k, 1, d)).squeeze(2)            # B K d
        return self.ln_f(last) @ self.wte.weight.t(), aux


class AuxHeads(torch.nn.Module):
    """Training-only per-patch classifiers (not saved, not exported)."""

    def __init__(self, d):
        super().__init__()
        self.ln = torch.nn.LayerNorm(d)
        self.shape = torch.nn.Linear(d, 1 + len(SHAPES))
        self.colour = torch.nn.Linear(d, 1 + len(COLOURS))

    def forward(self, x):
        x = self.ln(x)
        return self.shape(x), self.colour(x)


def initialise(model, aux, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in list(model.named_parameters()) + [('aux.' + n, p) for n, p in aux.named_parameters()]:
            if name == 'image_pos':
                d = param.shape[1]
                rows = torch.arange(GRID, dtype=torch.float32).repeat_interleave(GRID).view(-1, 1)
                cols = torch.arange(GRID, dtype=torch.float32).repeat(GRID).view(-1, 1)
                freq = torch.exp(torch.arange(0, d // 2, 2, dtype=torch.float32) * (-math.log(100.0) / (d // 2)))
                table = torch.cat([torch.sin(rows * freq), torch.cos(rows * freq),
                                   torch.sin(cols * freq), torch.cos(cols * freq)], dim=1)
                param.copy_(table * POSITION_SCALE)
            elif '.ln_' in name or name.startswith('ln_f.') or name.startswith('aux.ln.'):
                param.fill_(1.0 if name.endswith('.weight') else 0.0)
            elif name.endswith('.bias'):
                param.zero_()
            else:
                std = INIT_STD
                if name.endswith('c_proj.weight'):
                    std = INIT_STD / math.sqrt(2 * CONFIG['n_layer'])  # GPT-2's residual-branch scaling
                param.copy_(torch.randn(param.shape, generator=generator) * std)


# ----------------------------------------------------------------------------------------------------------------
# Batches and evaluation

def make_batch(rng, data, mix, counts):
    pool = data['by_count'][counts]
    idx = [pool[rng.randrange(len(pool))] for _ in range(BATCH_IMAGES)]
    flips = [rng.random() < 0.5 for _ in range(BATCH_IMAGES)]
    images = data['images'][idx]
    shape_lab = data['shape'][idx].clone()
    colour_lab = data['colour'][idx].clone()
    text = torch.full((BATCH_IMAGES, QUESTIONS_PER_IMAGE, CONFIG['max_text_tokens'] - 2), TOKEN_ID[PAD],
                      dtype=torch.int64)
    answer_pos = torch.zeros(BATCH_IMAGES, QUESTIONS_PER_IMAGE, dtype=torch.int64)
    answers = torch.zeros(BATCH_IMAGES, QUESTIONS_PER_IMAGE, dtype=torch.int64)
    types = []
    for row, (i, flip) in enumerate(zip(idx, flips)):
        scene = data['scenes'][i]
        if flip:
            scene = flipped(scene)
            images[row] = images[row].flip(1)
            shape_lab[row] = shape_lab[row].flip(1)
            colour_lab[row] = colour_lab[row].flip(1)
        for col in range(QUESTIONS_PER_IMAGE):
            qtype, (question, answer, _) = ask_mixed(rng, scene, mix)
            ids = encode(question)
            text[row, col, :len(ids)] = torch.tensor(ids)
            answer_pos[row, col] = len(ids) - 1
            answers[row, col] = TOKEN_ID[answer]
            types.append(qtype)
    return {'patches': patchify(normalise(images)), 'text': text, 'answer_pos': answer_pos, 'answers': answers,
            'shape': shape_lab.view(BATCH_IMAGES, -1), 'colour': colour_lab.view(BATCH_IMAGES, -1)}


def question_set(seed, n_images, per_image, types=QUESTION_TYPES):
    """A fixed evaluation set: n_images scenes, `per_image` questions each, question types cycling so every type
    gets the same number of items. Returns (scenes, images uint8, items)."""
    rng_np = np.random.default_rng(seed)
    rng = random.Random(seed)
    scenes, images = sample_images(rng_np, n_images)
    items = []
    asked_count = {t: 0 for t in types}
    for image_index, scene in enumerate(scenes):
        coverage = patch_coverage(scene)
        asked_types = set()
        for _ in range(per_image):
            # The least-asked type this scene supports and has not had yet (color/where need a shape that occurs
            # once), so the set stays balanced across types.
            for qtype in sorted(types, key=lambda t: (asked_count[t], types.index(t))):
                if qtype in asked_types:
                    continue
                asked = ask(rng, scene, qtype)
                if asked is not None:
                    break
            else:
                continue
            asked_count[qtype] += 1
            asked_types.add(qtype)
            question, answer, about = asked
            target = sorted({int(p) for i in about for p in np.flatnonzero(coverage[i].reshape(-1) >= 4)})
            items.append({'image': image_index, 'type': qtype, 'question': question, 'answer': answer,
                          'input_ids': encode(question), 'answer_id': TOKEN_ID[answer], 'target_patches': target})
    return scenes, images, items


@torch.no_grad()
def score(model, images_u8, items, chunk=64):
    """Accuracy per item: argmax of the logits at the last question token ("?") over the whole vocabulary equals the
    answer token. Uses the inference `forward` (the exported graph), batching items of equal question length."""
    model.eval()
    pixel_values = normalise(torch.from_numpy(np.asarray(images_u8)))
    predictions = [None] * len(items)
    by_length = {}
    for j, item in enumerate(items):
        by_length.setdefault(len(item['input_ids']), []).append(j)
    for length, js in by_length.items():
        for start in range(0, len(js), chunk):
            group = js[start:start + chunk]
            ids = torch.tensor([items[j]['input_ids'] for j in group])
            logits = model(pixel_values[[items[j]['image'] for j in group]], ids)[:, -1]
            for j, p in zip(group, logits.argmax(-1).tolist()):
                predictions[j] = p
    return [p == item['answer_id'] for p, item in zip(predictions, items)], predictions


def summarise(items, correct):
    out = {'overall': round(sum(correct) / max(1, len(correct)), 4), 'n': len(correct)}
    for qtype in QUESTION_TYPES:
        cs = [c for c, item in zip(correct, items) if item['type'] == qtype]
        out[qtype] = round(sum(cs) / max(1, len(cs)), 4)
        out[f'n_{qtype}'] = len(cs)
    return out


def per_answer(items, correct):
    table = {}
    for c, item in zip(correct, items):
        cell = table.setdefault(item['type'], {}).setdefault(item['answer'], [0, 0])
        cell[0] += c
        cell[1] += 1
    return {t: {a: [c[0], c[1]] for a, c in sorted(row.items())} for t, row in table.items()}


def train(model, aux, data, phases, probe, aux_weight, schedule, first_step=0):
    """One stage: AdamW from fresh state, cosine lr over the stage's steps. Logged step numbers continue from
    `first_step`, so the curves of both stages read as one run. aux_weight 0 trains on the answers alone."""
    rng = random.Random(schedule['seed'])
    dropout = MaskBank(DROPOUT, 6_000_000, schedule['seed'] + 1)
    aux_layer = CONFIG['n_layer'] - 1
    params = list(model.named_parameters()) + [('aux.' + n, p) for n, p in aux.named_parameters()]
    decay = [p for n, p in params if p.dim() == 2 and n != 'image_pos']
    no_decay = [p for n, p in params if not (p.dim() == 2 and n != 'image_pos')]
    optimizer = torch.optim.AdamW([{'params': decay, 'weight_decay': WEIGHT_DECAY},
                                   {'params': no_decay, 'weight_decay': 0.0}], lr=schedule['lr_max'], betas=BETAS)
    total = sum(p[1] for p in phases)
    assert all(p[3] in (0.0, DROPOUT) for p in phases)
    history, evals = [], []
    started, cpu_started = time.time(), time.process_time()
    step = 0
    window = []
    for phase_index, (name, steps, mix, p, counts) in enumerate(phases):
        print(f'== phase {name}: steps={steps} mix={mix} dropout={p} objects={counts}', flush=True)
        drop = dropout if p > 0 else (lambda x: x)
        for _ in range(steps):
            lr = cosine_learning_rate(step, total, schedule['warmup'], schedule['lr_max'], schedule['lr_min'])
            for group in optimizer.param_groups:
                group['lr'] = lr
            batch = make_batch(rng, data, mix, counts)
            model.train()
            logits, image_states = model.train_forward(batch['patches'], batch['text'], batch['answer_pos'],
                                                       drop, aux_layer)
            answer_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch['answers'].reshape(-1))
            shape_logits, colour_logits = aux(image_states)
            # All patches (mostly background) plus the object patches alone, so the shapes are not drowned out.
            shape_all = F.cross_entropy(shape_logits.reshape(-1, shape_logits.shape[-1]), batch['shape'].reshape(-1),
                                        reduction='none')
            on_object = (batch['shape'] > 0).reshape(-1).float()
            shape_loss = shape_all.mean() + (shape_all * on_object).sum() / on_object.sum().clamp(min=1.0)
            colour_loss = F.cross_entropy(colour_logits.reshape(-1, colour_logits.shape[-1]),
                                          batch['colour'].reshape(-1))
            loss = answer_loss + aux_weight * (shape_loss + 0.5 * colour_loss)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in params], CLIP)
            optimizer.step()
            step += 1
            with torch.no_grad():
                answer_acc = (logits.argmax(-1) == batch['answers']).float().mean().item()
                on_object = batch['shape'] > 0
                patch_acc = (shape_logits.argmax(-1)[on_object] == batch['shape'][on_object]).float().mean().item()
            window.append((answer_loss.item(), shape_loss.item(), colour_loss.item(), answer_acc, patch_acc))
            if step % LOG_EVERY == 0 or step == total:
                mean = [round(sum(w[c] for w in window) / len(window), 5) for c in range(5)]
                history.append({'step': first_step + step, 'phase': name, 'answer_loss': mean[0], 'aux_shape_loss': mean[1],
                                'aux_colour_loss': mean[2], 'train_answer_acc': mean[3],
                                'train_patch_shape_acc': mean[4], 'lr': round(lr, 7),
                                'elapsed_s': round(time.time() - started, 1),
                                'cpu_s': round(time.process_time() - cpu_started, 1)})
                window = []
                if step % PRINT_EVERY == 0 or step == total:
                    h = history[-1]
                    print(f"step {first_step + step:5d}/{first_step + total} {name} answer loss {h['answer_loss']:.4f} acc "
                          f"{h['train_answer_acc']:.3f} | aux shape {h['aux_shape_loss']:.3f} (patch acc "
                          f"{h['train_patch_shape_acc']:.3f}) colour {h['aux_colour_loss']:.3f} | lr {lr:.2e} "
                          f"elapsed {h['elapsed_s']:.0f}s (cpu {h['cpu_s']:.0f}s)", flush=True)
            last_of_phase = step == sum(p[1] for p in phases[:phase_index + 1])
            if probe and (step % probe['every'] == 0 or last_of_phase):
                t0 = time.time()
                correct, _ = score(model, probe['images'], probe['items'])
                summary = summarise(probe['items'], correct)
                evals.append({'step': first_step + step, 'elapsed_s': round(time.time() - started, 1), **summary})
                print(f"  probe @ {first_step + step}: overall {summary['overall']:.3f} | " +
                      ' '.join(f"{t} {summary[t]:.3f}" for t in QUESTION_TYPES) +
                      f' ({time.time() - t0:.1f}s)', flush=True)
    return {'steps': history, 'evals': evals, 'wall_s': round(time.time() - started, 1),
            'cpu_s': round(time.process_time() - cpu_started, 1)}


# ----------------------------------------------------------------------------------------------------------------
# Files

def export_onnx(model, path, pixel_values, input_ids):
    """opset 14: pixel_values float32 [1, 3, 64, 64] and input_ids int64 [1, T] (T dynamic) -> logits float32
    [1, T, vocab] (text positions only). The prefix-LM mask is built in-graph from T; there is no dropout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, (pixel_values, input_ids), str(path), opset_version=14, do_constant_folding=False,
                      input_names=['pixel_values', 'input_ids'], output_names=['logits'],
                      dynamic_axes={'input_ids': {1: 'sequence'}, 'logits': {1: 'sequence'}})
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    return graph


def tokenizer_json():
    specials = [PAD, UNK]
    return {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': TOKEN_ID[t], 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False,
                          'normalized': False, 'special': True} for t in specials],
        'normalizer': {'type': 'Lowercase'},
        # Words are split on whitespace and "?" is split off ("circle?" -> "circle", "?"); hyphenated answer words
        # such as "top-left" stay one token (the Whitespace pre-tokenizer would split them).
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'WhitespaceSplit'},
            {'type': 'Split', 'pattern': {'String': '?'}, 'behavior': 'Isolated', 'invert': False}]},
        'post_processor': None,
        'decoder': None,  # tokens are joined with spaces
        'model': {'type': 'WordLevel', 'vocab': dict(TOKEN_ID), 'unk_token': UNK},
    }


def model_card(parameter_count, result, final, heldout, answer_table, sizes, quick, train_images, phases, eval_counts):
    def row(name, s):
        return (f"| {name} | **{s['overall']:.3f}** | " + ' | '.join(f"{s[t]:.3f}" for t in QUESTION_TYPES)
                + f" | {s['n']} |")
    heldout_row = '' if heldout is None else row(f'held-out (seed {HELDOUT_SEED}, not stored)', heldout) + '\n'
    phase_rows = '\n'.join(f"| {name} | {steps} | {'/'.join(map(str, c))} | "
                           + ', '.join(f'{k} {v:.0%}' for k, v in mix.items()) + f' | {p} |'
                           for name, steps, mix, p, c in phases)
    answer_rows = '\n'.join(f"| {t} | " + ', '.join(f"{a} {c}/{n}" for a, (c, n) in answer_table[t].items()) + ' |'
                            for t in QUESTION_TYPES if t in answer_table)
    d = CONFIG['n_embd']
    return f"""# shapes-vqa
{'**QUICK SMOKE-TEST BUILD: a few training steps only; the numbers below are meaningless.**' if quick else ''}
A LLaVA-style tiny vision-language model trained from scratch: 64 image patch tokens, then a question; the answer
is the next token after "?". It is the playground's model for visual-token pruning (FastV, PyramidDrop, ...), which
scores image tokens by the attention they receive from the instruction tokens.

## Task
Images are 64×64 scenes rendered by `tools/shapes_data.py`: 1–3 non-overlapping shapes (circle, square, triangle,
star; upright) in 6 colours (red, green, blue, yellow, purple, orange), circumradius 9–12 px, on a quiet textured
grey background (shapes_data's texture with 5 grey levels 3 apart). Object centres lie on a 4-pixel lattice (patch
centres and patch corners; `sample_scene` in the training script), which makes shapes much easier to learn from
linear patch embeddings than free placement. Questions (lower-case words, "?" a separate token):

| type | question | answers | asked when |
|---|---|---|---|
| color | `what color is the circle ?` | red green blue yellow purple orange | exactly one object has that shape |
| count | `how many squares ?` / `how many shapes ?` | 0 1 2 3 | always |
| exists | `is there a red star ?` | yes no | always (half yes; half the no's share the colour or the shape with an object) |
| where | `where is the triangle ?` | top-left top-right bottom-left bottom-right | exactly one object has that shape and its centre is ≥ {WHERE_MARGIN} px from both midlines (quadrant of the centre) |

## Architecture
Decoder-only, GPT-2 blocks: {CONFIG['n_layer']} layers, {CONFIG['n_head']} heads, n_embd {d}, n_inner {CONFIG['n_inner']},
pre-LayerNorm (eps {CONFIG['layer_norm_epsilon']:g}), GELU tanh approximation (`gelu_new`), fused `c_attn`, LM head
tied to `wte`. **{parameter_count:,} parameters.**

Input sequence: `[V = {NUM_IMAGE_TOKENS} image tokens][T text tokens]`, T ≤ {CONFIG['max_text_tokens']}.
- **Image tokens.** `pixel_values` [1, 3, 64, 64] = (RGB / 255 − 0.5) / 0.5. The image is cut into an 8×8 grid of
  8×8 patches; token `r·8 + c` is the patch in patch-row r, patch-column c (row-major, top-left first). Each patch
  is flattened in (channel, row, column) order — index `ch·64 + y·8 + x`, the order of a ViT Conv2d kernel — into
  a 192-vector p, and the token is `p @ image_proj.weight + image_proj.bias + image_pos[r·8 + c]`.
- **Text tokens.** `wte[id] + wpe[t]`, t = 0..T−1 counted from the first text token (image tokens have no wpe).
- **Mask: prefix-LM.** Query i may attend key j iff `j < V or j ≤ i`: image tokens attend bidirectionally among
  themselves and never to text; text tokens are causal among themselves and see every image token.
- **Output.** `ln_f` on the text positions only, then `@ wte.weight^T`: logits [1, T, {CONFIG['vocab_size']}]. The answer
  is the argmax at the last position (the "?").

## Files
| file | bytes | |
|---|---|---|
{chr(10).join(f'| `{name}` | {size:,} | {what} |' for name, size, what in sizes)}

### Tensor names in `model.safetensors` (all float32; Conv1D layout = [in, out], i.e. y = x @ W + b)
| name | shape |
|---|---|
| `wte.weight` | [{CONFIG['vocab_size']}, {d}] (also the LM head, tied) |
| `wpe.weight` | [{CONFIG['max_text_tokens']}, {d}] (text positions) |
| `image_proj.weight`, `image_proj.bias` | [192, {d}], [{d}] |
| `image_pos` | [{NUM_IMAGE_TOKENS}, {d}] (learned, one row per patch) |
| `h.{{i}}.ln_1.weight/bias`, `h.{{i}}.ln_2.weight/bias` | [{d}] |
| `h.{{i}}.attn.c_attn.weight/bias` | [{d}, {3 * d}], [{3 * d}] (q, k, v concatenated; heads contiguous within each) |
| `h.{{i}}.attn.c_proj.weight/bias` | [{d}, {d}], [{d}] |
| `h.{{i}}.mlp.c_fc.weight/bias` | [{d}, {CONFIG['n_inner']}], [{CONFIG['n_inner']}] |
| `h.{{i}}.mlp.c_proj.weight/bias` | [{CONFIG['n_inner']}, {d}], [{d}] |
| `ln_f.weight/bias` | [{d}] |

There is no `lm_head.weight`.

### Tokenizer
`tokenizer.json`: Hugging Face tokenizers `WordLevel` model over {CONFIG['vocab_size']} tokens, `Lowercase` normalizer,
pre-tokenizer `WhitespaceSplit` then `Split("?", Isolated)`; special tokens `<pad>` (0) and `<unk>` (1). No BOS/EOS:
the text is just the question. `"what color is the circle ?"` → `{encode('what color is the circle ?')}`.
tokenizers.js has no `WordLevel` class and reads the unknown token from `tokenizer_config.json`'s `unk_token`
(shipped), so pass both files. Vocabulary: {' '.join(f'`{t}`' for t in VOCAB)}.

## Evaluation (`eval.json`)
`{{"format", "images": <shapes_data pack_images: palette-u8, 64×64>, "scenes": [...], "items": [...]}}`; each item is
`{{"image": index, "type", "question", "answer", "input_ids", "answer_id", "target_patches"}}`. `scenes[k]` is the
scene dict of image k (objects with shape, colour, centre, radius in pixels). `target_patches` lists the image-token
indices covered (≥ 4 pixels) by the object(s) the question is about (empty for a "no" existence question) — handy
for checking which tokens a pruning method keeps. {eval_counts}, seed {EVAL_SEED}.
**Scoring:** correct when argmax of the logits at the last input position (over the whole vocabulary) is
`answer_id`.

Dense accuracy, measured in PyTorch with the inference module that is exported to `onnx/model.onnx`:

| set | overall | color | count | exists | where | items |
|---|---|---|---|---|---|---|
{row('eval.json', final)}
{heldout_row}
Per answer on `eval.json` (correct/total):

| type | answers |
|---|---|
{answer_rows}

## Training
Deterministic (seed {SEED}), one CPU thread, torch {torch.__version__} with OpenBLAS: {sum(p[1] for p in phases):,} steps
in **{result['cpu_s'] / 60:.1f} CPU-minutes** ({result['wall_s'] / 60:.1f} minutes wall-clock at `nice -n 19` on a shared
2-core machine, probe evaluations included).
- Data: {train_images:,} pre-drawn training scenes (seed {TRAIN_IMAGES_SEED}), each batch flipping half its images
  left-right (the shapes are mirror-symmetric; scene coordinates and "where" answers flip with them); questions
  drawn afresh for every use. Batch: {BATCH_IMAGES} images × {QUESTIONS_PER_IMAGE} questions. Because image tokens
  never attend to text, the image tokens are computed once per image and all its questions attend to them
  (`train_forward`, checked equal to the inference forward).
- Loss: cross-entropy of the answer token at the "?" position, plus {AUX_WEIGHT} × an auxiliary per-patch loss: a
  training-only LayerNorm + linear head on every image token after {CONFIG['n_layer'] - 1} of the {CONFIG['n_layer']}
  blocks classifies the shape (and, at half weight, the colour) of the object covering ≥ {AUX_MIN_PIXELS} of the
  patch's 64 pixels, or background (shape cross-entropy averaged over all patches plus over object patches only). It plays the part of the pretrained vision encoder of a real LLaVA; its heads
  are discarded (not in the safetensors or ONNX files).
- Dropout 0.1 at GPT-2's sites (embeddings, attention probabilities, both residual branches) in the last phase
  (off in the first two, while the circuits form), via a pre-generated seeded bank of keep/scale masks (same
  statistics as `nn.Dropout`, cheaper here); identity at inference.
- AdamW (betas {BETAS}, weight decay {WEIGHT_DECAY} on matrices), lr {LR_MAX:g}, {WARMUP} warm-up steps, cosine to
  {LR_MIN:g}, gradient clip {CLIP}. Init N(0, {INIT_STD}) (c_proj / √(2·n_layer)), `image_pos` {POSITION_SCALE}·2-D
  sinusoid (learnable; at 0.1 scale, as first tried, the patch content soon dwarfed the positions and "where" stayed
  at chance for a whole run), LayerNorm (1, 0), biases 0.
- Stage 2 (the `refine` phase) starts from stage 1's weights with a fresh AdamW, lr {STAGE2_SCHEDULE['lr_max']:g} with
  {STAGE2_SCHEDULE['warmup']} warm-up steps then cosine to {STAGE2_SCHEDULE['lr_min']:g}, on the answers alone (auxiliary weight 0): stage 1's
  answer loss was still falling when its schedule reached the floor.
- Curriculum: one-object scenes first (no binding of the question's shape to one of several objects needed, so
  colour and position read-out form first; colour and count weighted up), then 1–2 objects, then the full task:

| phase | steps | objects per scene | question mix | dropout |
|---|---|---|---|---|
{phase_rows}

`training.json` has the losses, training accuracy (answers; per-patch shape on object patches), lr and elapsed
time every {LOG_EVERY} steps (`steps`), and a probe evaluation (seed {PROBE_SEED}) at intervals (`evals`).

## Retrain
```
nohup setsid nice -n 19 env OMP_NUM_THREADS=1 /usr/bin/python3 tools/train_shapes_vqa.py > /tmp/shapes_vqa_train.log 2>&1 &
```
(Debian's python3-torch and python3-onnx, and OpenBLAS for speed: see `../shared/notes/training-small-models.md`).
`--quick --out DIR` runs a smoke test of the whole pipeline. `--stage1-from DIR` (a folder this script wrote)
skips stage 1 and refines DIR's weights: the same model, most of an hour sooner.
"""




def main():
    keep_freed_memory()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=Path, default=DEFAULT_OUT)
    parser.add_argument('--quick', action='store_true', help='a few steps and small data sets')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--pilot', type=int, default=0, help='experiment: this many steps in total, no files')
    parser.add_argument('--aux-weight', type=float, default=AUX_WEIGHT)
    parser.add_argument('--stage1-from', type=Path, help='a folder this script wrote: start stage 2 from its weights')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)

    phases, refine_phases = PHASES, REFINE_PHASES
    train_images = TRAIN_IMAGES
    if args.quick:
        phases, refine_phases = ([(n, 5, m, p, c) for n, _, m, p, c in stage] for stage in (PHASES, REFINE_PHASES))
        train_images = 200
    elif args.pilot:
        scale = args.pilot / sum(p[1] for p in PHASES)
        phases = [(n, max(1, round(s * scale)), m, p, c) for n, s, m, p, c in PHASES]
        refine_phases = []
        train_images = min(TRAIN_IMAGES, args.pilot * BATCH_IMAGES // 3)

    t0 = time.time()
    eval_scenes, eval_images, eval_items = question_set(EVAL_SEED, 20 if args.quick else 200, 2)
    probe_scenes, probe_images, probe_items = question_set(PROBE_SEED, 20 if args.quick else 200, 2)
    probe = {'images': probe_images, 'items': probe_items, 'every': 5 if args.quick else PROBE_EVERY}
    data = draw_training_set(train_images, TRAIN_IMAGES_SEED)
    print(f'drew {train_images} training images and the eval/probe sets in {time.time() - t0:.0f}s', flush=True)

    model = ShapesVqa(CONFIG)
    aux = AuxHeads(CONFIG['n_embd'])
    initialise(model, aux, SEED)
    parameter_count = sum(p.numel() for p in model.parameters())
    print(f'shapes-vqa: {parameter_count:,} parameters, config {CONFIG}, threads {torch.get_num_threads()}',
          flush=True)

    # The split training forward (no dropout) must be the inference forward the files describe.
    def check_train_forward():
        model.eval()
        with torch.no_grad():
            items = eval_items[:6]
            pixel_values = normalise(torch.from_numpy(eval_images[[it['image'] for it in items]]))
            tq = max(len(it['input_ids']) for it in items)
            text = torch.full((len(items), 1, tq), TOKEN_ID[PAD], dtype=torch.int64)
            for r, it in enumerate(items):
                text[r, 0, :len(it['input_ids'])] = torch.tensor(it['input_ids'])
            pos = torch.tensor([[len(it['input_ids']) - 1] for it in items])
            split, _ = model.train_forward(patchify(pixel_values), text, pos, lambda x: x, 0)
            for r, it in enumerate(items):
                full = model(pixel_values[r:r + 1], torch.tensor([it['input_ids']]))[0, -1]
                assert torch.allclose(split[r, 0], full, atol=1e-4), 'train_forward differs from forward'
    check_train_forward()

    if args.stage1_from:
        model.load_state_dict(read_safetensors(args.stage1_from / 'model.safetensors'))
        stage1 = stage1_record(args.stage1_from, [p[0] for p in phases])
    else:
        stage1 = train(model, aux, data, phases, probe, args.aux_weight, STAGE1_SCHEDULE)
    stage1_steps = sum(p[1] for p in phases)
    stage2 = train(model, aux, data, refine_phases, probe, 0.0, STAGE2_SCHEDULE, stage1_steps) if refine_phases else NO_STAGE
    result = joined_stages(stage1, stage2)
    phases = phases + refine_phases
    model.eval()
    check_train_forward()

    t0 = time.time()
    correct, predictions = score(model, eval_images, eval_items)
    final = summarise(eval_items, correct)
    answer_table = per_answer(eval_items, correct)
    print(f'final eval.json ({time.time() - t0:.0f}s): {json.dumps(final)}', flush=True)
    print(f'per answer: {json.dumps(answer_table)}', flush=True)
    heldout = None
    if not args.quick:
        t0 = time.time()
        _, heldout_images, heldout_items = question_set(HELDOUT_SEED, 1000, 2)
        heldout = summarise(heldout_items, score(model, heldout_images, heldout_items)[0])
        print(f'held-out ({time.time() - t0:.0f}s): {json.dumps(heldout)}', flush=True)
    if args.pilot:
        return

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    config_json = {
        'model_type': 'shapes-vqa', 'architectures': ['ShapesVqaForAnswering'], **CONFIG,
        'activation_function': 'gelu_new', 'attention': 'prefix-lm',
        'image_token_order': 'row-major patches, each flattened (channel, row, column)',
        'do_rescale': True, 'rescale_factor': 1 / 255, 'do_normalize': True,
        'image_mean': [IMAGE_MEAN] * 3, 'image_std': [IMAGE_STD] * 3,
        'logits': 'text', 'tie_word_embeddings': True,
        'resid_pdrop': DROPOUT, 'embd_pdrop': DROPOUT, 'attn_pdrop': DROPOUT, 'initializer_range': INIT_STD,
        'pad_token_id': TOKEN_ID[PAD], 'unk_token_id': TOKEN_ID[UNK], 'answer_position': 'last',
    }
    (out / 'config.json').write_text(json.dumps(config_json, indent=2) + '\n')

    tensors = model.state_dict()
    assert 'lm_head.weight' not in tensors
    write_safetensors(out / 'model.safetensors', tensors)

    (out / 'tokenizer.json').write_text(json.dumps(tokenizer_json(), ensure_ascii=False, indent=1) + '\n')
    (out / 'tokenizer_config.json').write_text(json.dumps({
        'tokenizer_class': 'PreTrainedTokenizerFast', 'model_max_length': CONFIG['max_text_tokens'],
        'unk_token': UNK, 'pad_token': PAD, 'clean_up_tokenization_spaces': False}, indent=2) + '\n')

    # Export a fresh inference module with the trained weights.
    inference = ShapesVqa(CONFIG).eval()
    inference.load_state_dict(tensors)
    with torch.no_grad():
        item = eval_items[0]
        pixel_values = normalise(torch.from_numpy(eval_images[item['image']:item['image'] + 1]))
        ids = torch.tensor([item['input_ids']])
        graph = export_onnx(inference, out / 'onnx/model.onnx', pixel_values, ids)
        assert torch.equal(inference(pixel_values, ids), model(pixel_values, ids))
        # Prefix property: the logits of a text prefix do not depend on later text.
        assert torch.allclose(inference(pixel_values, ids[:, :3]), inference(pixel_values, ids)[:, :3], atol=1e-5)
    stored = sum(math.prod(init.dims) for init in graph.graph.initializer) + sum(
        math.prod(attr.t.dims) for node in graph.graph.node for attr in node.attribute if attr.type == attr.TENSOR)
    assert stored < parameter_count + 1000, f'the ONNX graph stores {stored - parameter_count} extra values'

    eval_counts = (f'{len(eval_items)} items on {len(eval_scenes)} images (2 questions of different types per image: '
                   + ', '.join(f"{final['n_' + t]} {t}" for t in QUESTION_TYPES) + ')')
    (out / 'eval.json').write_text(json.dumps({
        'format': 'shapes-vqa eval v1: see README.md#evaluation-evaljson',
        'seed': EVAL_SEED,
        'scoring': 'argmax of logits at the last input position == answer_id',
        'images': shapes_data.pack_images(eval_images),
        'scenes': eval_scenes,
        'items': eval_items,
    }, separators=(',', ':')) + '\n')

    training = {'model': 'shapes-vqa', 'parameters': parameter_count, 'seed': SEED, 'torch': torch.__version__,
                'threads': torch.get_num_threads(), 'wall_s': result['wall_s'], 'cpu_s': result['cpu_s'],
                'quick': args.quick, 'train_images': train_images,
                'phases': [{'name': n, 'steps': s, 'mix': m, 'dropout': p, 'objects': c} for n, s, m, p, c in phases],
                'stages': {'1': {'phases': len(phases) - len(refine_phases), **STAGE1_SCHEDULE},
                           '2': {'phases': len(refine_phases), 'aux_weight': 0.0, **STAGE2_SCHEDULE}},
                'hyperparameters': {'lr_max': LR_MAX, 'lr_min': LR_MIN, 'warmup': WARMUP, 'betas': BETAS,
                                    'weight_decay': WEIGHT_DECAY, 'clip': CLIP, 'dropout': DROPOUT,
                                    'init_std': INIT_STD, 'aux_weight': args.aux_weight,
                                    'batch_images': BATCH_IMAGES, 'questions_per_image': QUESTIONS_PER_IMAGE,
                                    'scene': SCENE},
                'log_every': LOG_EVERY, 'steps': result['steps'], 'evals': result['evals'],
                'final_eval': final, 'final_eval_per_answer': answer_table, 'heldout_eval': heldout}
    (out / 'training.json').write_text(json.dumps(training, separators=(',', ':')) + '\n')

    files = [('config.json', 'model config (dimensions, mask, image normalisation)'),
             ('model.safetensors', 'float32 weights, names below'),
             ('tokenizer.json', 'Hugging Face tokenizers, WordLevel'), ('tokenizer_config.json', 'unk/pad tokens'),
             ('onnx/model.onnx', 'opset 14, `pixel_values` float32 [1, 3, 64, 64] + `input_ids` int64 [1, T] → '
                                 f'`logits` float32 [1, T, {CONFIG["vocab_size"]}], dense reference'),
             ('eval.json', 'fixed evaluation set (below)'), ('training.json', 'loss/accuracy curves')]
    sizes = [(name, (out / name).stat().st_size, what) for name, what in files]
    (out / 'README.md').write_text(model_card(parameter_count, result, final, heldout, answer_table, sizes,
                                              args.quick, train_images, phases, eval_counts))

    print(f'parameters: {parameter_count:,}; training {result["wall_s"] / 60:.1f} min wall, '
          f'{result["cpu_s"] / 60:.1f} min cpu', flush=True)
    for name in [n for n, _ in files] + ['README.md']:
        print(f'{out / name}: {(out / name).stat().st_size:,} bytes', flush=True)


if __name__ == '__main__':
    main()
