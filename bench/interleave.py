#!/usr/bin/python3
"""Two trainers measured in turns: Shears against PyTorch (bench/side-by-side.sh), or two builds or JVM settings of
Shears against each other (an A/B of a change).

On a machine shared with other work a figure taken at one time and another taken minutes later compare the load
as much as the code. Here both trainers run at once, each waiting on its standard input, and only one computes at
a time: Shears (`SideBySide serve`: the job's own loop, net.fit on Batches with MaskedTraining, TrainingPath) and
PyTorch (`torch_lenet5.py --serve`: the same loop in PyTorch). They train LeNet-5 on Fashion-MNIST (batch 64) in
alternating blocks of `--block` iterations, the order flipping every pair, so that both see the same load. With
`--model resnet20` they train ResNet-20 instead (the recipe resnet20-fmnist-90: batch 128, Nesterov SGD 0.05/0.9,
weight decay 5e-4; PyTorch's side `torch_resnet.py --model resnet20 --serve`), in blocks of 10 iterations after 40;
with `--model mobilenetv2` MobileNetV2 (the recipe mobilenetv2-fmnist-structured: width multiplier 0.35, batch 128,
Nesterov SGD 0.05/0.9, weight decay 1e-4; PyTorch's side `torch_resnet.py --model mobilenetv2 --serve`), in blocks of
5 iterations after 20 (about 1 s an iteration each on one core; its evaluation about 40 s a side). `--model` picks the
recipe Shears' side runs (`--recipe` overrides it: the Shears side builds whatever model the recipe names), PyTorch's
script, the block, the warm-up and the sparsity of the masked phase. Phases:

  dense       training, after `--warmup` iterations each
  masked      training after both pruned to `--sparsity` (as a job step: the recipe's pruning on Shears' side; global
              L1 on PyTorch's, for MobileNetV2 L2 on each convolution's output channels)
  eval        the job's evaluation of the 10,000 test images (batches of 1000)
  checkpoint  the job's checkpoint (Shears' Checkpoints.save; PyTorch's torch.save + fsync + SHA-256 + rename)

Each block reports its wall time and its CPU time read inside the process: the training thread's (the JVM's
thread CPU time; Python's time.thread_time) and the whole process's (user + system of all threads, JIT and GC
included; getrusage). The ratio of a phase is the median of the per-pair ratios A/B, for samples per second and
for samples per process-CPU-second; quartiles and range are printed beside.

Prints `RESULT <key>=<value>` lines on stdout and a table on stderr. Pin the whole command with `taskset -c CPUS`:
both children inherit it.

  /usr/bin/python3 bench/interleave.py --threads 1 [--jar bench/target/benchmarks.jar] [--pairs 9] [--block 150]
  /usr/bin/python3 bench/interleave.py --ab A.jar B.jar [--jvm-a="-XX:..."] [--jvm-b="..."]   # Shears vs Shears
  /usr/bin/python3 bench/interleave.py --model resnet20 --phases dense,masked,eval
  /usr/bin/python3 bench/interleave.py --model mobilenetv2 --phases dense,masked [--ab A.jar B.jar]
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PHASES = ("dense", "masked", "eval", "checkpoint")
RECIPES = os.path.join(HERE, "..", "trainer", "src", "main", "resources", "recipes")
# per model: Shears' recipe, PyTorch's script and its arguments, the training block and warm-up (iterations) and the
# masked phase's sparsity (the recipe's final one) unless given
MODELS = {"lenet5": ("lenet5-fmnist-90.yaml", ["torch_lenet5.py"], 150, 1000, 0.9),
          "resnet20": ("resnet20-fmnist-90.yaml", ["torch_resnet.py", "--model", "resnet20"], 10, 40, 0.9),
          "mobilenetv2": ("mobilenetv2-fmnist-structured.yaml", ["torch_resnet.py", "--model", "mobilenetv2"], 5, 20,
                          0.5)}


class Trainer:
    def __init__(self, name, cmd, env):
        self.name = name
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
                                     bufsize=1)
        self.expect("READY")

    def expect(self, word):
        for line in self.proc.stdout:
            if line.startswith(word):
                return line.split()
        sys.exit(f"interleave: {self.name} ended before answering {word} (exit code {self.proc.wait()}): "
                 + " ".join(self.cmd))

    def run(self, command):
        """(wall s, samples, thread CPU s, process CPU s) of one command."""
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        _, wall, samples, thread_cpu, process_cpu = self.expect("DONE")[:5]
        return float(wall), int(samples), float(thread_cpu), float(process_cpu)

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=120)


def quartiles(values):
    return statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3


def measure(a, b, pairs, command):
    """Alternating blocks, the order flipping every pair. Per side the blocks' (samples or 1)/wall, /thread CPU and
    /process CPU; and the per-pair ratios a/b of the first and the last."""
    blocks = {a.name: [], b.name: []}
    for p in range(pairs):
        order = (a, b) if p % 2 == 0 else (b, a)
        for t in order:
            wall, samples, thread_cpu, process_cpu = t.run(command)
            work = samples if samples else 1
            blocks[t.name].append((work / wall, work / thread_cpu if thread_cpu > 0 else float("nan"),
                                   work / process_cpu if process_cpu > 0 else float("nan"), wall, process_cpu))
    return blocks


def report(phase, a, b, blocks, unit):
    def col(name, i):
        return [x[i] for x in blocks[name]]
    lines = []
    for i, what in ((0, "per_s"), (1, "per_thread_cpu_s"), (2, "per_cpu_s")):
        for name in (a, b):
            lines.append((f"{phase}_{name}_{unit}_{what}", statistics.median(col(name, i))))
        ratios = [x / y for x, y in zip(col(a, i), col(b, i))]
        q = quartiles(ratios)
        lines += [(f"{phase}_ratio_{what}", statistics.median(ratios)), (f"{phase}_ratio_{what}_q1", q[0]),
                  (f"{phase}_ratio_{what}_q3", q[2]), (f"{phase}_ratio_{what}_min", min(ratios)),
                  (f"{phase}_ratio_{what}_max", max(ratios))]
    for name in (a, b):
        lines.append((f"{phase}_{name}_wall_s", statistics.median(col(name, 3))))
        lines.append((f"{phase}_{name}_cpu_s", statistics.median(col(name, 4))))
    for k, v in lines:
        print(f"RESULT {k}={v:.6g}")
    r = dict(lines)
    print(f"{phase:>10}: {a} {r[f'{phase}_{a}_{unit}_per_s']:9.1f} {unit}/s, {b} {r[f'{phase}_{b}_{unit}_per_s']:9.1f};"
          f" {a}/{b} {r[f'{phase}_ratio_per_s']:.3f} (q1 {r[f'{phase}_ratio_per_s_q1']:.3f}, q3"
          f" {r[f'{phase}_ratio_per_s_q3']:.3f}); per CPU-second {r[f'{phase}_{a}_{unit}_per_cpu_s']:9.1f} against"
          f" {r[f'{phase}_{b}_{unit}_per_cpu_s']:9.1f}, {a}/{b} {r[f'{phase}_ratio_per_cpu_s']:.3f}"
          f" (q1 {r[f'{phase}_ratio_per_cpu_s_q1']:.3f}, q3 {r[f'{phase}_ratio_per_cpu_s_q3']:.3f})",
          file=sys.stderr, flush=True)


def shears(name, jar, jvm, threads, args, env):
    return Trainer(name, ["java", *shlex.split(jvm), f"-XX:ActiveProcessorCount={threads}", "-cp", jar,
                          "dev.shears.bench.SideBySide", "serve", "--recipe", args.recipe, "--data", args.data], env)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--jar", default=os.path.join(HERE, "target", "benchmarks.jar"))
    ap.add_argument("--jvm", default="-Xmx768m -Xmn96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1",
                    help="JVM options for Shears (default %(default)s: what ./shears train uses)")
    ap.add_argument("--ab", nargs=2, metavar=("JAR_A", "JAR_B"), help="Shears against Shears: two builds")
    ap.add_argument("--jvm-a", help="JVM options of A (default --jvm)")
    ap.add_argument("--jvm-b", help="JVM options of B (default --jvm)")
    ap.add_argument("--openblas", default="/usr/lib/x86_64-linux-gnu/openblas-pthread",
                    help="put this directory first on PyTorch's LD_LIBRARY_PATH ('' to leave the library path alone)")
    ap.add_argument("--model", choices=sorted(MODELS), default="lenet5")
    ap.add_argument("--recipe", help="Shears' recipe (default: the model's, " + ", ".join(
        m[0] for m in MODELS.values()) + ")")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--phases", default=",".join(PHASES), help="which of " + ",".join(PHASES))
    ap.add_argument("--pairs", type=int, default=9, help="pairs of training blocks per phase")
    ap.add_argument("--block", type=int, help="iterations per training block (default " + ", ".join(
        f"{m[2]} for {k}" for k, m in MODELS.items()) + ")")
    ap.add_argument("--eval-pairs", type=int, default=5)
    ap.add_argument("--checkpoint-pairs", type=int, default=7)
    ap.add_argument("--warmup", type=int,
                    help="training iterations before measuring, each side (default 1000 for lenet5, past most of the"
                         " JIT; " + ", ".join(f"{m[3]} for {k}" for k, m in MODELS.items() if k != "lenet5") + ")")
    ap.add_argument("--sparsity", type=float, help="of the masked phase (default the recipe's final: " + ", ".join(
        f"{m[4]} for {k}" for k, m in MODELS.items()) + ")")
    args = ap.parse_args()
    recipe, script, block, warmup, sparsity = MODELS[args.model]
    args.recipe = args.recipe or os.path.join(RECIPES, recipe)
    args.block = args.block or block
    args.warmup = args.warmup if args.warmup is not None else warmup
    args.sparsity = args.sparsity if args.sparsity is not None else sparsity
    phases = args.phases.split(",")

    n = str(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=n, OMP_WAIT_POLICY="PASSIVE", OPENBLAS_NUM_THREADS=n, MKL_NUM_THREADS=n)
    if args.ab:
        a = shears("a", args.ab[0], args.jvm_a or args.jvm, n, args, env)
        b = shears("b", args.ab[1], args.jvm_b or args.jvm, n, args, env)
    else:
        a = shears("shears", args.jar, args.jvm, n, args, env)
        torch_env = dict(env)
        if args.openblas:
            torch_env["LD_LIBRARY_PATH"] = args.openblas + (
                ":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        b = Trainer("torch", [sys.executable, os.path.join(HERE, script[0]), *script[1:], "--serve", "--threads", n,
                              "--data", args.data], torch_env)
    try:
        for t in (a, b):
            t.run(f"train {args.warmup}")
        if "dense" in phases:
            report("dense", a.name, b.name, measure(a, b, args.pairs, f"train {args.block}"), "samples")
        if "masked" in phases:
            for t in (a, b):
                t.run(f"prune {args.sparsity}")
                t.run(f"train {args.warmup // 2}")  # the masked path warmed up as well
            report("masked", a.name, b.name, measure(a, b, args.pairs, f"train {args.block}"), "samples")
        if "eval" in phases:
            for t in (a, b):
                t.run("eval")
            report("eval", a.name, b.name, measure(a, b, args.eval_pairs, "eval"), "samples")
        if "checkpoint" in phases:
            for t in (a, b):
                t.run("checkpoint")
            report("checkpoint", a.name, b.name, measure(a, b, args.checkpoint_pairs, "checkpoint"), "checkpoints")
        print(f"RESULT pairs={args.pairs}")
        print(f"RESULT block={args.block}")
        print(f"RESULT eval_pairs={args.eval_pairs}")
        print(f"RESULT checkpoint_pairs={args.checkpoint_pairs}")
    finally:
        for t in (a, b):
            t.close()


if __name__ == "__main__":
    main()
