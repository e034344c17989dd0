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
`checkpoint`, `quit`, answered as torch_lenet5.py --serve answers them. With --profile it trains 10 iterations, times
--profile-iterations more (20) and prints ms/iteration, then runs as many under torch.profiler and prints PyTorch's
table of operators by their own CPU time.

--model mobilenetv2 (with --serve or --profile only; bench/interleave.py --model mobilenetv2) trains Shears'
`mobilenetv2` instead, as the recipe mobilenetv2-fmnist-structured builds it (GraphArchitectures.mobilenetv2,
torchvision's MobileNetV2 on a small input), --width-multiplier 0.35 (the recipe's): a 3x3 stem convolution at stride
1 (inputs of at most 64 pixels) -> BN -> ReLU6; torchvision's inverted-residual settings, the second setting's first
block at stride 1 too; each block [1x1 expansion -> BN -> ReLU6 when t > 1] -> 3x3 depthwise (padding 1) -> BN ->
ReLU6 -> 1x1 projection -> BN, plus the block's input when stride 1 and in == out; a 1x1 convolution to
divisible(1280 * max(1, w)) channels -> BN -> ReLU6; global average pooling, dropout 0.2, linear. No convolution
biases, BN eps 1e-5 and momentum 0.1, PyTorch's default initialisation (which Shears' PyTorchInit copies); 408,650
trainable parameters at 0.35 (Shears counts 422,730 with BN's running means and variances). Its weight decay defaults
to the recipe's 1e-4. `prune S` prunes as the recipe does (ln_structured, L2, local, convolutions and depthwise
convolutions), but each convolution's output channels on their own, at least 8 left alive, where Shears prunes
dependency groups: the same modules masked, not the same channels.
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


# ---- MobileNetV2, as Shears' GraphArchitectures.mobilenetv2 (module names as its layer names) ----------------------

# torchvision's inverted-residual settings: expansion t, channels c, blocks n, first stride s
MOBILENETV2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                        (6, 320, 1, 1))
SMALL_INPUT = 64  # inputs no larger keep their resolution in the stem (and the second setting's first block)


def divisible(v):
    """torchvision's _make_divisible(v, 8): the nearest multiple of 8, at least 8, not below 90 % of v."""
    n = max(8, int(v + 4) // 8 * 8)
    return n + 8 if n < 0.9 * v else n


def conv_bn(inp, out, kernel, stride, groups=1, act=True):
    layers = [nn.Conv2d(inp, out, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(out)]
    return layers + [nn.ReLU6(inplace=True)] if act else layers


class InvertedResidual(nn.Module):
    def __init__(self, inp, out, stride, expansion):
        super().__init__()
        hidden = inp * expansion
        layers = conv_bn(inp, hidden, 1, 1) if expansion != 1 else []
        layers += conv_bn(hidden, hidden, 3, stride, groups=hidden) + conv_bn(hidden, out, 1, 1, act=False)
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and inp == out

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    """The network as it trains: logits, for cross-entropy."""

    def __init__(self, width_multiplier=0.35, size=28, channels_in=1, classes=10, dropout=0.2):
        super().__init__()
        small = size <= SMALL_INPUT
        channels = divisible(32 * width_multiplier)
        features = [nn.Sequential(*conv_bn(channels_in, channels, 3, 1 if small else 2))]
        for s, (t, c, n, stride) in enumerate(MOBILENETV2_SETTINGS):
            out = divisible(c * width_multiplier)
            for b in range(n):
                features.append(InvertedResidual(channels, out, 1 if b > 0 or (small and s == 1) else stride, t))
                channels = out
        last = divisible(1280 * max(1.0, width_multiplier))
        features.append(nn.Sequential(*conv_bn(channels, last, 1, 1)))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(last, classes)

    def forward(self, x):
        return self.fc(self.dropout(torch.flatten(self.avgpool(self.features(x)), 1)))


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
    if a.model == "mobilenetv2":
        model = MobileNetV2(a.width_multiplier)
    else:
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

    def prune_channels(target, min_channels=8):  # MobileNetV2's recipe: ln_structured L2, local, every convolution
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                channels = m.weight.shape[0]
                dead = int((m.weight_mask.flatten(1).sum(1) == 0).sum()) if prune.is_pruned(m) else 0
                alive = channels - dead
                k = min(lenet.units_to_prune(channels, dead, target), max(0, alive - min(min_channels, alive)))
                prune.ln_structured(m, "weight", amount=k, n=2, dim=0)  # k = 0 masks all the same

    if a.profile:
        from torch.profiler import profile, ProfilerActivity

        def step():
            x, y = batches.next()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
        model.train()
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))
        print(f"model={a.model} trainable_params={trainable} bn_running_stats={buffers}", flush=True)
        for _ in range(10):
            step()
        t, c = time.perf_counter(), time.thread_time()
        for _ in range(a.profile_iterations):
            step()
        wall, cpu, n = time.perf_counter() - t, time.thread_time() - c, a.profile_iterations
        print(f"iterations={n} batch={a.batch} ms_per_iteration={wall * 1e3 / n:.1f}"
              f" thread_cpu_ms_per_iteration={cpu * 1e3 / n:.1f} samples_per_s={n * a.batch / wall:.1f}", flush=True)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(a.profile_iterations):
                step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
        return
    lenet.serve_loop(model, opt, batches, xte, yte, prune_channels if a.model == "mobilenetv2" else prune_to)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=("resnet20", "mobilenetv2"), default="resnet20",
                   help="resnet20: the ResNet of --depth and --width; mobilenetv2 (--serve or --profile only)")
    p.add_argument("--width-multiplier", type=float, default=0.35, help="MobileNetV2's (default %(default)s)")
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--keep", type=float, default=0.5)
    p.add_argument("--batches", default="1,64")
    p.add_argument("--pairs", type=int, default=21)
    p.add_argument("--block-ms", type=float, default=200)
    p.add_argument("--serve", action="store_true", help="train on command (see above)")
    p.add_argument("--profile", action="store_true", help="time and profile training iterations (see above)")
    p.add_argument("--profile-iterations", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, help="default the recipe's: 5e-4 resnet20, 1e-4 mobilenetv2")
    p.add_argument("--batch", type=int, default=128)
    a = p.parse_args()
    if a.weight_decay is None:
        a.weight_decay = 1e-4 if a.model == "mobilenetv2" else 5e-4
    if a.model == "mobilenetv2" and not (a.serve or a.profile):
        p.error("--model mobilenetv2 trains only (--serve or --profile)")
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
