"""Helpers every training script in tools/ shares."""
import ctypes
import math


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
