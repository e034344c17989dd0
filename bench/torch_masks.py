#!/usr/bin/python3
"""PyTorch's side of bench/mask-vs-torch.sh: the operations MaskBenchmark times, with
torch.nn.utils.prune.

  global:  prune.global_unstructured over the weights of 20 nn.Linear(2048, 2048)-like
           parameters (83.9M float32 entries), prune.L1Unstructured, amount=0.5
  l1:      prune.l1_unstructured on one 4096x4096 float32 weight, amount=0.5

Every repetition starts unpruned from the same random-normal values: outside the timed region
the pruning is removed (prune.remove) and the pristine values are copied back. Prints one line
per operation:

  RESULT op=<global|l1> mean_ms=<float> min_ms=<float> reps=<n> threads=<n> torch=<version>

Run with Debian's interpreter: /usr/bin/python3 bench/torch_masks.py [--threads 2] [--reps 5]
"""
import argparse
import gc
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.utils.prune as prune
except ImportError:
    sys.exit("torch_masks.py: no torch for " + sys.executable + " (fix: apt-get install -y python3-torch)")

GLOBAL_TENSORS = 20
GLOBAL_SIDE = 2048
SINGLE_SIDE = 4096
AMOUNT = 0.5
SEED = 42


class Holder(nn.Module):
    """A module with one `weight` parameter: what prune.* needs, without Linear's bias or init."""

    def __init__(self, values):
        super().__init__()
        self.weight = nn.Parameter(values.clone())


def make(count, side):
    g = torch.Generator().manual_seed(SEED)
    pristine = [torch.randn(side, side, generator=g, dtype=torch.float32) for _ in range(count)]
    modules = [Holder(p) for p in pristine]
    return modules, pristine


def reset(modules, pristine):
    """Untimed: remove the pruning (weight becomes a plain parameter again) and restore values."""
    with torch.no_grad():
        for m, p in zip(modules, pristine):
            if prune.is_pruned(m):
                prune.remove(m, "weight")
            m.weight.copy_(p)
    gc.collect()


def op_global(modules):
    prune.global_unstructured([(m, "weight") for m in modules],
                              pruning_method=prune.L1Unstructured, amount=AMOUNT)


def op_l1(modules):
    prune.l1_unstructured(modules[0], "weight", amount=AMOUNT)


def measure(name, op, modules, pristine, warmup, reps, threads):
    times = []
    for i in range(warmup + reps):
        reset(modules, pristine)
        t0 = time.perf_counter()
        op(modules)
        t1 = time.perf_counter()
        if i >= warmup:
            times.append((t1 - t0) * 1000.0)
    # sanity: the op did prune half of the entries
    zeros = sum(int((m.weight_mask == 0).sum()) for m in modules)
    total = sum(m.weight.numel() for m in modules)
    reset(modules, pristine)
    print(f"RESULT op={name} mean_ms={statistics.mean(times):.3f} min_ms={min(times):.3f} "
          f"reps={reps} threads={threads} torch={torch.__version__} pruned={zeros}/{total}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ops", default="global,l1")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ops = args.ops.split(",")
    if "global" in ops:
        modules, pristine = make(GLOBAL_TENSORS, GLOBAL_SIDE)
        measure("global", op_global, modules, pristine, args.warmup, args.reps, torch.get_num_threads())
        del modules, pristine
        gc.collect()
    if "l1" in ops:
        modules, pristine = make(1, SINGLE_SIDE)
        measure("l1", op_l1, modules, pristine, args.warmup, args.reps, torch.get_num_threads())


if __name__ == "__main__":
    main()
