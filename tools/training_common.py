"""Helpers every training script in tools/ shares."""
import ctypes
import json
import math
import random

import torch


def keep_freed_memory():
    """Stops glibc from returning every large freed tensor to the OS (mmap/munmap per op): with the default
    thresholds each step re-faults its attention buffers page by page, which made a T=1024 step ~10x slower here
    (mostly system time)."""
    try:
        libc = ctypes.CDLL('libc.so.6')
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 31)  # M_TRIM_THRESHOLD
    except OSError:
        pass


def cosine_learning_rate(step, total, warmup, lr_max, lr_min):
    """Linear warm-up to lr_max over `warmup` steps, then cosine decay to lr_min at `total`."""
    if step < warmup:
        return lr_max * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * progress))


NO_STAGE = {'steps': [], 'evals': [], 'wall_s': 0.0, 'cpu_s': 0.0}
STAGE_KEYS = ('steps', 'evals', 'wall_s', 'cpu_s')


def stage1_record(folder, phase_names):
    """The curves and times of the stage 1 that wrote `folder` (its training.json), after checking that its phases
    are the ones this script's stage 1 runs, so stage 2 can resume from the folder's weights."""
    recorded = json.loads((folder / 'training.json').read_text())
    assert [p['name'] for p in recorded['phases']][:len(phase_names)] == list(phase_names), f'{folder} is not a stage-1 folder'
    print(f'stage 1 from {folder} ({recorded["cpu_s"] / 60:.1f} CPU-minutes when it ran)', flush=True)
    return {key: recorded[key] for key in STAGE_KEYS}


def joined_stages(stage1, stage2):
    """Both stages' records as one run: stage 2's clock continues from stage 1's."""
    for row in stage2['steps'] + stage2['evals']:
        row['elapsed_s'] = round(row['elapsed_s'] + stage1['wall_s'], 1)
        if 'cpu_s' in row:
            row['cpu_s'] = round(row['cpu_s'] + stage1['cpu_s'], 1)
    return {key: stage1[key] + stage2[key] for key in STAGE_KEYS}


class MaskBank:
    """Dropout with a pre-generated, seeded bank of keep/scale values sliced at random offsets.

    Same Bernoulli(1-p)/(1-p) statistics as nn.Dropout at a fraction of the cost: this torch build draws random
    numbers slowly, and the B*H*T*T attention-probability dropout dominated a recall-lm step at T=1024.
    """

    def __init__(self, p, size, seed):
        generator = torch.Generator().manual_seed(seed)
        self.bank = (torch.rand(size, generator=generator) >= p).float().div_(1.0 - p)
        self.rng = random.Random(seed)

    def __call__(self, x):
        n = x.numel()
        start = self.rng.randrange(self.bank.numel() - n + 1)
        return x * self.bank[start:start + n].view(x.shape)
