#!/usr/bin/python3
"""PyTorch's side of bench/side-by-side.sh: the job `./shears train` runs with
trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml, written the usual PyTorch way.

  data      the four Fashion-MNIST IDX .gz files read with gzip + struct, pixels / 255, then
            (x - 0.2860) / 0.3530 (trainer's FashionMnist.standardized())
  model     LeNet-5: conv1 6@5x5 pad 2 ReLU -> maxpool 2 -> conv2 16@5x5 ReLU -> maxpool 2 ->
            fc1 120 ReLU -> fc2 84 ReLU -> fc3 10 (softmax in the loss); PyTorch's default init
            (uniform +-1/sqrt(fan_in), which Shears' Models.lenet5 copies)
  training  SGD(lr=0.01, momentum=0.9, nesterov=True) (DL4J's Nesterovs), cross-entropy, batch 64,
            an endless stream of batches reshuffled every epoch (the last batch of an epoch is
            the 32 left over, as in Shears' Batches); 3 dense epochs
  pruning   Zhu & Gupta's cubic schedule to 0.9 in 10 steps; each step turns the absolute target
            into a count on what remains (round-half-even, as Shears' Sparsity.unitsToPrune) and
            calls prune.global_unstructured(L1Unstructured, amount=<count>) over the weights of
            conv1..fc3; 469 fine-tune iterations per step; test evaluation after each step; the
            accuracy budget (at most 5 points below dense, else up to 2 x 469 extra iterations)
  checkpoint after each step: model + optimizer state_dict (weight_orig, weight_mask, momentum),
            torch.save to a temporary file, fsync, SHA-256, atomic rename; the last 3 kept
  finalize  prune.remove on every weight, the outputs checked against the masked model's on 256
            test images, the model's state_dict saved (torch.save)

and a micro-benchmark of the mask computation on LeNet-5 (the counterpart of SideBySide mask):

  oneshot   prune.global_unstructured(L1Unstructured, amount=0.9) over the 5 weights of a fresh
            LeNet-5 (untimed per repetition: prune.remove and the pristine values put back)
  step      on weights already pruned to 0.5 globally: the absolute target 0.9 turned into a count
            on what remains (from the masks), then prune.global_unstructured with that count

Prints machine-readable lines, one figure each:

  RESULT <key>=<value>

Keys: torch, blas (the BLAS, LAPACK and oneDNN libraries this process mapped, from /proc/self/maps),
openblas_num_threads, threads, omp_num_threads, dense_samples_per_s, finetune_samples_per_s, dense_seconds,
finetune_seconds, eval_seconds, train_cpu_seconds and eval_cpu_seconds (getrusage, all threads), evaluations,
checkpoint_seconds, prune_in_job_ms, finalize_seconds, job_seconds, process_seconds, dense_accuracy,
final_accuracy, final_sparsity, checkpoint_bytes (the last checkpoint), model_bytes (the final state_dict),
mask_oneshot_ms, mask_step_ms (medians), their minima, mask_reps. --config FILE writes torch.__config__.show()
and parallel_info() there.

Run with Debian's interpreter, on OpenBLAS (bench/side-by-side.sh does this, pinned):
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \
      /usr/bin/python3 bench/torch_lenet5.py --threads 1 --out /tmp/torch-run
  /usr/bin/python3 bench/torch_lenet5.py --threads 1 --no-job      # the mask benchmark only
  /usr/bin/python3 bench/torch_lenet5.py --threads 1 --serve       # training on command (interleave.py)
"""
import argparse
import gzip
import hashlib
import os
import resource
import statistics
import struct
import sys
import time

T0 = time.perf_counter()

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.nn.utils.prune as prune
except ImportError:
    sys.exit("torch_lenet5.py: no torch for " + sys.executable + " (fix: apt-get install -y python3-torch,"
             " and run it with /usr/bin/python3)")

MEAN, STD = 0.2860, 0.3530
WEIGHTS = ("conv1", "conv2", "fc1", "fc2", "fc3")


def result(key, value):
    print(f"RESULT {key}={value}", flush=True)


# ---- data -----------------------------------------------------------------------------------------

def read_idx(path, images):
    """An IDX file (gzip): uint8 images [n, 28, 28] or labels [n]."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from(">I", data, 0)[0]
    if images:
        if magic != 0x00000803:
            sys.exit(f"{path}: magic {magic:#x} is not an IDX image file")
        n, rows, cols = struct.unpack_from(">III", data, 4)
        if (rows, cols) != (28, 28) or len(data) != 16 + n * 784:
            sys.exit(f"{path}: expected {n} images of 28x28")
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).view(n, 1, 28, 28)
    if magic != 0x00000801:
        sys.exit(f"{path}: magic {magic:#x} is not an IDX label file")
    (n,) = struct.unpack_from(">I", data, 4)
    if len(data) != 8 + n:
        sys.exit(f"{path}: expected {n} labels")
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()


def load(data_dir):
    def split(images, labels):
        x = read_idx(os.path.join(data_dir, images), True).float() / 255.0
        return (x - MEAN) / STD, read_idx(os.path.join(data_dir, labels), False)
    return (split("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            split("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))


class Batches:
    """Endless mini-batches, epoch after epoch, a new random order each epoch."""

    def __init__(self, x, y, batch, seed):
        self.x, self.y, self.batch = x, y, batch
        self.g = torch.Generator().manual_seed(seed)
        self.order, self.pos = None, 0

    def next(self):
        n = self.x.shape[0]
        if self.order is None or self.pos >= n:
            self.order, self.pos = torch.randperm(n, generator=self.g), 0
        idx = self.order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return self.x.index_select(0, idx), self.y.index_select(0, idx)


# ---- model ----------------------------------------------------------------------------------------

class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def targets(final, steps, power, initial=0.0):
    """Polynomial decay, k = 1..n: s_f + (s_i - s_f)(1 - k/n)^power; the last exactly s_f."""
    return [final + (initial - final) * (1.0 - k / steps) ** power for k in range(1, steps)] + [final]


def params(model):
    return [(getattr(model, m), "weight") for m in WEIGHTS]


def pruned_count(model):
    return sum(int((getattr(m, "weight_mask") == 0).sum()) if prune.is_pruned(m) else 0 for m, _ in params(model))


def units_to_prune(total, already, target):
    """Shears' Sparsity.unitsToPrune: round(target * total) - already (Python's round is half-even)."""
    return max(0, round(target * total) - already)


def prune_to(model, target):
    total = sum(m.weight.numel() for m, _ in params(model))
    k = units_to_prune(total, pruned_count(model), target)
    prune.global_unstructured(params(model), pruning_method=prune.L1Unstructured, amount=k)


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out = model(x[i:i + batch])
            loss += float(F.cross_entropy(out, y[i:i + batch], reduction="sum"))
            correct += int((out.argmax(1) == y[i:i + batch]).sum())
    model.train()
    return correct / x.shape[0], loss / x.shape[0]


def checkpoint(out, seq, state, keep):
    """torch.save to a temporary file, fsync, SHA-256 next to it, atomic rename; keep the last `keep`."""
    os.makedirs(out, exist_ok=True)
    name = os.path.join(out, f"ckpt-{seq:06d}.pt")
    tmp = name + ".tmp"
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    h = hashlib.sha256()
    with open(tmp, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    with open(name + ".sha256", "w") as f:
        f.write(h.hexdigest() + "\n")
    os.replace(tmp, name)
    old = sorted(p for p in os.listdir(out) if p.startswith("ckpt-") and p.endswith(".pt"))
    for p in old[:-keep]:
        os.remove(os.path.join(out, p))
        os.remove(os.path.join(out, p + ".sha256"))
    return os.path.getsize(name)


# ---- the job --------------------------------------------------------------------------------------

def job(args):
    t_job = time.perf_counter()
    (xtr, ytr), (xte, yte) = load(args.data)
    # the same work as the recipe: its validation count held out of the training images (a seeded draw of its own),
    # evaluated after every step to decide the budget, and the test set evaluated and reported beside it
    held = torch.randperm(xtr.shape[0], generator=torch.Generator().manual_seed(args.seed))
    xva, yva = xtr[held[:args.validation]], ytr[held[:args.validation]]
    xtr, ytr = xtr[held[args.validation:]], ytr[held[args.validation:]]
    torch.manual_seed(args.seed)
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, nesterov=True)
    batches = Batches(xtr, ytr, args.batch, args.seed)
    per_epoch = (xtr.shape[0] + args.batch - 1) // args.batch
    test_acc = {"last": float("nan"), "dense": float("nan")}
    timing = {"eval": 0.0, "checkpoint": 0.0, "prune": 0.0, "checkpoint_bytes": 0, "train_cpu": 0.0, "eval_cpu": 0.0}
    ckpt_dir = os.path.join(args.out, "checkpoints")

    def train(iterations):
        samples = 0
        t, c = time.perf_counter(), process_cpu()
        for _ in range(iterations):
            x, y = batches.next()
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            samples += x.shape[0]
        timing["train_cpu"] += process_cpu() - c
        return samples, time.perf_counter() - t

    def timed_eval():
        t, c = time.perf_counter(), process_cpu()
        acc, loss = evaluate(model, xva, yva) if args.validation > 0 else evaluate(model, xte, yte)
        test_acc["last"] = evaluate(model, xte, yte)[0] if args.validation > 0 else acc
        timing["eval"] += time.perf_counter() - t
        timing["eval_cpu"] += process_cpu() - c
        timing["evaluations"] = timing.get("evaluations", 0) + 1
        return acc, loss

    def save(seq, target, acc):
        t = time.perf_counter()
        if not args.no_checkpoints:
            state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": seq, "target": target,
                     "accuracy": acc}
            timing["checkpoint_bytes"] = checkpoint(ckpt_dir, seq, state, 3)
        timing["checkpoint"] += time.perf_counter() - t

    model.train()
    dense_samples, dense_seconds = train(args.dense_epochs * per_epoch)
    dense_acc, dense_loss = timed_eval()
    test_acc["dense"] = test_acc["last"]
    save(0, 0.0, dense_acc)
    print(f"step 0  dense        accuracy {dense_acc:.4f} loss {dense_loss:.4f}  "
          f"{dense_samples / dense_seconds:8.0f} samples/s", file=sys.stderr, flush=True)

    ft_samples, ft_seconds, acc = 0, 0.0, dense_acc
    total = sum(m.weight.numel() for m, _ in params(model))
    for step, target in enumerate(targets(args.final, args.steps, args.power), start=1):
        t = time.perf_counter()
        prune_to(model, target)
        timing["prune"] += time.perf_counter() - t
        s, sec = train(args.iters)
        ft_samples, ft_seconds = ft_samples + s, ft_seconds + sec
        acc, loss = timed_eval()
        retries, decision = 0, "ok"
        while dense_acc - acc > args.max_drop + 1e-9 and retries < args.max_retries:
            retries += 1
            s, sec = train(args.iters)
            ft_samples, ft_seconds = ft_samples + s, ft_seconds + sec
            acc, loss = timed_eval()
            decision = f"extra fine-tune x{retries}"
        save(step, target, acc)
        print(f"step {step:<2d} target {100 * target:6.2f}%  achieved {100 * pruned_count(model) / total:6.2f}%  "
              f"accuracy {acc:.4f} loss {loss:.4f}  {s / sec:8.0f} samples/s  {decision}",
              file=sys.stderr, flush=True)

    t = time.perf_counter()
    sparsity = pruned_count(model) / total
    probe = xte[:256]
    model.eval()
    with torch.no_grad():
        masked = model(probe)
        for m, name in params(model):
            prune.remove(m, name)
        permanent = model(probe)
    if not torch.equal(masked, permanent):
        sys.exit("the permanent model's outputs differ from the masked model's")
    os.makedirs(args.out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(args.out, "model.pt"))
    finalize = time.perf_counter() - t
    model_bytes = os.path.getsize(os.path.join(args.out, "model.pt"))

    result("dense_samples_per_s", f"{dense_samples / dense_seconds:.1f}")
    result("finetune_samples_per_s", f"{ft_samples / ft_seconds:.1f}")
    result("dense_seconds", f"{dense_seconds:.3f}")
    result("finetune_seconds", f"{ft_seconds:.3f}")
    result("eval_seconds", f"{timing['eval']:.3f}")
    result("train_cpu_seconds", f"{timing['train_cpu']:.3f}")
    result("eval_cpu_seconds", f"{timing['eval_cpu']:.3f}")
    result("evaluations", timing["evaluations"])
    result("checkpoint_seconds", f"{timing['checkpoint']:.3f}")
    result("prune_in_job_ms", f"{timing['prune'] * 1000:.3f}")
    result("finalize_seconds", f"{finalize:.3f}")
    result("job_seconds", f"{time.perf_counter() - t_job:.3f}")
    result("process_seconds", f"{time.perf_counter() - T0:.3f}")
    result("dense_accuracy", f"{test_acc['dense']:.4f}")
    result("final_accuracy", f"{test_acc['last']:.4f}")
    result("dense_validation_accuracy", f"{dense_acc:.4f}")
    result("final_validation_accuracy", f"{acc:.4f}")
    result("final_sparsity", f"{sparsity:.6f}")
    result("checkpoint_bytes", timing["checkpoint_bytes"])
    result("model_bytes", model_bytes)


# ---- training on command (bench/interleave.py) -----------------------------------------------------

def serve(args):
    """LeNet-5's training loop driven from stdin (serve_loop)."""
    (xtr, ytr), (xte, yte) = load(args.data)
    torch.manual_seed(args.seed)
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, nesterov=True)
    serve_loop(model, opt, Batches(xtr, ytr, args.batch, args.seed), xte, yte, lambda target: prune_to(model, target))


def serve_loop(model, opt, batches, xte, yte, prune_fn):
    """The job's training loop driven from stdin, one command a line: `train K` (K iterations), `prune S`
    (prune_fn(S): to the absolute sparsity S, as a job step), `eval` (the test set, batches of 1000, as the job),
    `checkpoint` (the job's checkpoint into a temporary directory keeping the last 3), `quit`; each answered by
    `DONE <wall s> <samples> <this thread's CPU s> <the process's CPU s>` on stdout (time.thread_time and
    getrusage(RUSAGE_SELF) user + system), after a first `READY`. torch_resnet.py --serve runs it too."""
    import tempfile
    ckpt_dir = tempfile.mkdtemp(prefix="side-by-side-checkpoints-")
    model.train()
    print("READY", flush=True)
    step = 0
    for line in sys.stdin:
        cmd = line.split()
        t, thread0, process0 = time.perf_counter(), time.thread_time(), process_cpu()
        samples = 0
        if cmd[0] == "train":
            for _ in range(int(cmd[1])):
                x, y = batches.next()
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(model(x), y).backward()
                opt.step()
                samples += x.shape[0]
        elif cmd[0] == "prune":
            step += 1
            prune_fn(float(cmd[1]))
        elif cmd[0] == "eval":
            evaluate(model, xte, yte)
            samples = xte.shape[0]
        elif cmd[0] == "checkpoint":
            checkpoint(ckpt_dir, step, {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step}, 3)
        elif cmd[0] == "quit":
            return
        else:
            sys.exit("unknown command " + line)
        print(f"DONE {time.perf_counter() - t} {samples} {time.thread_time() - thread0} {process_cpu() - process0}",
              flush=True)


def process_cpu():
    """User + system CPU seconds of this process, all threads (getrusage)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def blas_in_use():
    """The BLAS and LAPACK libraries mapped into this process (after a matrix product), as real paths."""
    torch.ones(8, 8) @ torch.ones(8, 8)
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            name = os.path.basename(path)
            if path.startswith("/") and any(k in name for k in ("blas", "lapack", "mkl", "dnnl")):
                found.add(os.path.realpath(path))
    return sorted(found)


# ---- the mask micro-benchmark ---------------------------------------------------------------------

def mask_bench(args):
    torch.manual_seed(args.seed)
    model = LeNet5()
    pristine = [m.weight.detach().clone() for m, _ in params(model)]

    def reset():
        with torch.no_grad():
            for (m, name), p in zip(params(model), pristine):
                if prune.is_pruned(m):
                    prune.remove(m, name)
                m.weight.copy_(p)

    def oneshot():
        prune.global_unstructured(params(model), pruning_method=prune.L1Unstructured, amount=0.9)

    def pre_step():
        prune.global_unstructured(params(model), pruning_method=prune.L1Unstructured, amount=0.5)

    def step():
        prune_to(model, 0.9)

    total = sum(m.weight.numel() for m, _ in params(model))
    for key, op, setup in (("mask_oneshot_ms", oneshot, None), ("mask_step_ms", step, pre_step)):
        times = []
        for i in range(args.mask_warmup + args.mask_reps):
            reset()
            if setup:
                setup()
            t = time.perf_counter()
            op()
            elapsed = time.perf_counter() - t
            if i >= args.mask_warmup:
                times.append(elapsed * 1000.0)
        pruned = pruned_count(model)
        if pruned != round(0.9 * total):
            sys.exit(f"{key}: pruned {pruned} of {total}, expected {round(0.9 * total)}")
        result(key, f"{statistics.median(times):.4f}")
        result(key.replace("_ms", "_min_ms"), f"{min(times):.4f}")
    result("mask_reps", args.mask_reps)
    reset()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default="/tmp/torch-lenet5")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--dense-epochs", type=int, default=3)
    ap.add_argument("--validation", type=int, default=5000,
                    help="training images held out as the validation split, which decides the budget (the recipe's)")
    ap.add_argument("--final", type=float, default=0.9)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--power", type=float, default=3.0)
    ap.add_argument("--iters", type=int, default=469, help="fine-tune iterations per step (and per extra round)")
    ap.add_argument("--max-drop", type=float, default=0.05)
    ap.add_argument("--max-retries", type=int, default=2)
    ap.add_argument("--no-checkpoints", action="store_true")
    ap.add_argument("--no-job", action="store_true", help="skip the training job")
    ap.add_argument("--no-mask", action="store_true", help="skip the mask micro-benchmark")
    ap.add_argument("--mask-warmup", type=int, default=100)
    ap.add_argument("--mask-reps", type=int, default=500)
    ap.add_argument("--config", help="write torch.__config__.show() and parallel_info() to this file")
    ap.add_argument("--serve", action="store_true", help="train on command from stdin (bench/interleave.py)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        serve(args)
        return
    result("torch", torch.__version__)
    result("blas", " ".join(blas_in_use()))
    result("openblas_num_threads", os.environ.get("OPENBLAS_NUM_THREADS", "unset"))
    if args.config:
        with open(args.config, "w") as f:
            f.write(torch.__config__.show())
            f.write(torch.__config__.parallel_info())
    result("threads", torch.get_num_threads())
    result("omp_num_threads", os.environ.get("OMP_NUM_THREADS", "unset"))
    if not args.no_mask:
        mask_bench(args)
    if not args.no_job:
        job(args)


if __name__ == "__main__":
    main()
