"""The CIFAR ResNet of Shears' `resnet` model (basic blocks, batch norm, identity and 1x1 projection shortcuts,
three stages of width, 2x and 4x width channels, global average pooling, one linear classifier) in PyTorch, on
Fashion-MNIST's 1x28x28: the dense network against the same network with every dependency group pruned to a
fraction of its channels (what Shears' compaction produces: a ResNet of that fraction of the width), timed in
turns on one process, block by block, at batch 1 and 64, in inference mode.

Prints one line per batch size, in the format of dev.shears.bench.ResNetCompactionSpeedup:
  CASE impl=torch depth=20 width=16 keep=0.5 batch=1 params_before=... dense_ms=... compacted_ms=... speedup=...

Usage: OMP_NUM_THREADS=1 taskset -c 0 /usr/bin/python3 bench/torch_resnet.py [--depth 20] [--width 16] [--keep 0.5]

With --serve it trains instead, on command, for bench/interleave.py --model resnet20: the same ResNet on Fashion-MNIST
(torch_lenet5.py's data, normalisation and batches), SGD with Nesterov momentum and weight decay as the recipe
resnet20-fmnist-90 (--lr 0.05 --momentum 0.9 --weight-decay 5e-4 --batch 128), cross-entropy on the logits; commands
`train K`, `prune S` (global L1 over every convolution and linear weight to the absolute sparsity S), `eval`,
`checkpoint`, `quit`, answered as torch_lenet5.py --serve answers them. With --profile it trains 10 iterations, then
20 more under torch.profiler, and prints PyTorch's table of operators by their own CPU time.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, inp, out, stride, inner):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, inner, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(inner)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(inner, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or inp != out:
            self.downsample = nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False), nn.BatchNorm2d(out))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    """widths: the residual stream's channels per stage; inner: each block's inner channels per stage."""

    def __init__(self, depth, widths, inner, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(1, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        blocks, channels = [], widths[0]
        for stage in range(3):
            for b in range(n):
                stride = 2 if stage > 0 and b == 0 else 1
                blocks.append(BasicBlock(channels, widths[stage], stride, inner[stage]))
                channels = widths[stage]
        self.layers = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        x = self.layers(self.relu(self.bn1(self.conv1(x))))
        return torch.softmax(self.fc(torch.flatten(self.avgpool(x), 1)), 1)


def kept(channels, keep):
    return max(1, round(channels * keep))


def timed(model, x, calls):
    t0 = time.perf_counter()
    for _ in range(calls):
        model(x)
    return (time.perf_counter() - t0) * 1e3 / calls


class Trainable(ResNet):
    """The network as it trains: logits, for cross-entropy (the softmax belongs to the loss)."""

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.layers(self.relu(self.bn1(self.conv1(x))))), 1))


def serve(a):
    import os
    import sys
    import torch.nn.functional as F
    import torch.nn.utils.prune as prune
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch_lenet5 as lenet  # the data, batches, evaluation, checkpoint and command loop of the LeNet-5 side
    (xtr, ytr), (xte, yte) = lenet.load(a.data)
    xtr, xte = xtr.reshape(-1, 1, 28, 28), xte.reshape(-1, 1, 28, 28)
    torch.manual_seed(a.seed)
    widths = [a.width, 2 * a.width, 4 * a.width]
    model = Trainable(a.depth, widths, widths)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum, nesterov=True,
                          weight_decay=a.weight_decay)
    batches = lenet.Batches(xtr, ytr, a.batch, a.seed)
    weights = [(m, "weight") for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]

    def prune_to(target):  # global L1 over every convolution and linear weight, as the recipe
        total = sum(m.weight.numel() for m, _ in weights)
        pruned = sum(int((m.weight_mask == 0).sum()) if prune.is_pruned(m) else 0 for m, _ in weights)
        prune.global_unstructured(weights, pruning_method=prune.L1Unstructured,
                                  amount=lenet.units_to_prune(total, pruned, target))

    if a.profile:
        from torch.profiler import profile, ProfilerActivity

        def step():
            x, y = batches.next()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
        model.train()
        for _ in range(10):
            step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(20):
                step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
        return
    lenet.serve_loop(model, opt, batches, xte, yte, prune_to)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--keep", type=float, default=0.5)
    p.add_argument("--batches", default="1,64")
    p.add_argument("--pairs", type=int, default=21)
    p.add_argument("--block-ms", type=float, default=200)
    p.add_argument("--serve", action="store_true", help="train on command (see above)")
    p.add_argument("--profile", action="store_true", help="profile 20 training iterations (see above)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--batch", type=int, default=128)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.serve or a.profile:
        serve(a)
        return
    torch.manual_seed(42)
    widths = [a.width, 2 * a.width, 4 * a.width]
    dense = ResNet(a.depth, widths, widths).eval()
    small_widths = [kept(w, a.keep) for w in widths]
    small = ResNet(a.depth, small_widths, small_widths).eval()
    params = lambda m: sum(t.numel() for t in m.parameters())
    with torch.no_grad():
        for batch in [int(b) for b in a.batches.split(",")]:
            x = torch.rand(batch, 1, 28, 28)
            for _ in range(3):
                dense(x)
                small(x)
            per_call = timed(dense, x, 5)
            block = max(1, round(a.block_ms / per_call))
            td, ts, ratio = [], [], []
            for i in range(a.pairs):
                if i % 2 == 0:
                    d = timed(dense, x, block)
                    s = timed(small, x, block)
                else:
                    s = timed(small, x, block)
                    d = timed(dense, x, block)
                td.append(d)
                ts.append(s)
                ratio.append(d / s)
            r = sorted(ratio)
            print(f"CASE impl=torch depth={a.depth} width={a.width} keep={a.keep} batch={batch}"
                  f" params_before={params(dense)} params_after={params(small)} block={block} pairs={a.pairs}"
                  f" dense_ms={statistics.median(td):.4f} compacted_ms={statistics.median(ts):.4f}"
                  f" speedup={statistics.median(ratio):.4f} q1={r[a.pairs // 4]:.4f} q3={r[(3 * a.pairs) // 4]:.4f}",
                  flush=True)


if __name__ == "__main__":
    main()
