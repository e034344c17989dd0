#!/usr/bin/python3
"""Training throughput of Shears and PyTorch measured in turns, for bench/side-by-side.sh.

On a machine shared with other work a figure taken at one time and another taken minutes later
compare the load as much as the code. Here both trainers run at once, each waiting on its standard
input: Shears (`SideBySide serve`: the job's own loop, net.fit on Batches with MaskedTraining) and
PyTorch (`torch_lenet5.py --serve`: the same loop in PyTorch). They train LeNet-5 on Fashion-MNIST
(batch 64) in alternating blocks of `--block` iterations, the order flipping every pair, so that
both see the same load; only one computes at a time. First dense (after `--warmup` iterations
each), then both prune to `--sparsity` (global L1, as a job step) and the masked fine-tuning is
measured the same way. The ratio is the median of the per-pair ratios; CPU time per block is read
from /proc/<pid>/stat (all threads of each process).

Prints `RESULT <key>=<value>` lines and a short table on stderr.

  /usr/bin/python3 bench/interleave.py --threads 1 --jar bench/target/benchmarks.jar [--pairs 11]
      [--block 150] [--warmup 200] [--sparsity 0.9] [--recipe R] [--data DIR]
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


class Trainer:
    def __init__(self, name, cmd, env):
        self.name = name
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
                                     bufsize=1)
        self.expect("READY")

    def expect(self, word):
        for line in self.proc.stdout:
            if line.startswith(word):
                return line.split()
        sys.exit(f"interleave: {self.name} ended before answering {word} (exit code {self.proc.wait()})")

    def cpu(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, all threads

    def run(self, command):
        c0 = self.cpu()
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        _, seconds, samples = self.expect("DONE")
        return float(seconds), int(samples), self.cpu() - c0

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=60)


def measure(a, b, pairs, block):
    """Alternating blocks; per side the samples/s of each block, and the per-pair ratios a/b."""
    rate = {a.name: [], b.name: []}
    cpu_rate = {a.name: [], b.name: []}
    ratios = []
    for p in range(pairs):
        order = (a, b) if p % 2 == 0 else (b, a)
        got = {}
        for t in order:
            seconds, samples, cpu = t.run(f"train {block}")
            got[t.name] = samples / seconds
            rate[t.name].append(samples / seconds)
            cpu_rate[t.name].append(samples / cpu if cpu > 0 else float("nan"))
        ratios.append(got[a.name] / got[b.name])
    return rate, cpu_rate, ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--jar", default=os.path.join(HERE, "target", "benchmarks.jar"))
    ap.add_argument("--recipe", default=os.path.join(HERE, "..", "trainer", "src", "main", "resources", "recipes",
                                                     "lenet5-fmnist-90.yaml"))
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--pairs", type=int, default=11)
    ap.add_argument("--block", type=int, default=150)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--sparsity", type=float, default=0.9)
    args = ap.parse_args()

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="PASSIVE")
    shears = Trainer("shears", ["java", "-Xmx2g", "-cp", args.jar, "dev.shears.bench.SideBySide", "serve",
                                "--recipe", args.recipe, "--data", args.data], env)
    torch = Trainer("torch", [sys.executable, os.path.join(HERE, "torch_lenet5.py"), "--serve",
                              "--threads", str(args.threads), "--data", args.data], env)
    try:
        for t in (shears, torch):
            t.run(f"train {args.warmup}")
        results = {}
        for phase in ("dense", "masked"):
            if phase == "masked":
                for t in (shears, torch):
                    t.run(f"prune {args.sparsity}")
                    t.run(f"train {args.warmup // 2}")  # the masked path warmed up as well
            rate, cpu_rate, ratios = measure(shears, torch, args.pairs, args.block)
            results[phase] = (rate, cpu_rate, ratios)
            q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
            print(f"RESULT {phase}_shears_samples_per_s={statistics.median(rate['shears']):.1f}")
            print(f"RESULT {phase}_torch_samples_per_s={statistics.median(rate['torch']):.1f}")
            print(f"RESULT {phase}_ratio={statistics.median(ratios):.4f}")
            print(f"RESULT {phase}_ratio_q1={q[0]:.4f}")
            print(f"RESULT {phase}_ratio_q3={q[2]:.4f}")
            print(f"RESULT {phase}_shears_samples_per_cpu_s={statistics.median(cpu_rate['shears']):.1f}")
            print(f"RESULT {phase}_torch_samples_per_cpu_s={statistics.median(cpu_rate['torch']):.1f}")
            print(f"{phase:>6}: Shears {statistics.median(rate['shears']):7.0f} samples/s, PyTorch "
                  f"{statistics.median(rate['torch']):7.0f}; ratio median {statistics.median(ratios):.3f} "
                  f"(q1 {q[0]:.3f}, q3 {q[2]:.3f}); per ratio {', '.join(f'{r:.2f}' for r in ratios)}",
                  file=sys.stderr, flush=True)
        print(f"RESULT pairs={args.pairs}")
        print(f"RESULT block={args.block}")
    finally:
        for t in (shears, torch):
            t.close()


if __name__ == "__main__":
    main()
