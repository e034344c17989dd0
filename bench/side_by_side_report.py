#!/usr/bin/python3
"""The tables of bench/side-by-side.sh, from the logs its parts left in one directory.

  /usr/bin/python3 bench/side_by_side_report.py DIR THREADS START "PARTS" QUICK MASK84

(bench/side-by-side.sh calls it; run it again on a directory kept with KEEP=DIR to print the
tables again.) Ratios are Shears / PyTorch: above 1 is faster for throughputs, below 1 is
faster for times.
"""
import datetime
import json
import os
import platform
import re
import subprocess
import sys

tmp, threads, start, parts, quick, mask84_mode = sys.argv[1:7]
parts = parts.split()


def path(name):
    return os.path.join(tmp, name)


def results(name):
    d = {}
    if os.path.exists(path(name + ".log")):
        for line in open(path(name + ".log")):
            if line.startswith("RESULT "):
                k, v = line[7:].rstrip("\n").split("=", 1)
                d[k] = v
    return d


def timing(name):
    """Wall and CPU (user + sys) seconds of a part's process, as bash's time measured them."""
    wall, user, sys_ = map(float, open(path(name + ".time")).read().split()[-3:])
    return wall, user + sys_


def verdict(ok):
    return "met" if ok else "NOT MET"


loads = {}
if os.path.exists(path("loads")):
    for line in open(path("loads")):
        name, *rest = line.split()
        loads[name] = " ".join(rest)

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
nproc = subprocess.run(["nproc", "--all"], capture_output=True, text=True).stdout.strip()
java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
torch_version = results("torch_mask").get("torch") or results("torch_job").get("torch")
if not torch_version:
    import torch  # this interpreter is Debian's, which has it
    torch_version = torch.__version__
print()
print(f"machine : {platform.node()}, nproc={nproc} (os.cpu_count {os.cpu_count()}), CPU: {cpu}")
# The end is when the last part wrote its output, so that a report made again from a kept run keeps its dates.
last_write = max((os.path.getmtime(os.path.join(tmp, f)) for f in os.listdir(tmp)
                  if os.path.isfile(os.path.join(tmp, f))), default=None)
end = datetime.datetime.fromtimestamp(last_write).astimezone() if last_write else datetime.datetime.now().astimezone()
print(f"date    : {start} .. {end.strftime('%Y-%m-%d %H:%M:%S %z')}")
print(f"threads : {threads} (OMP_NUM_THREADS={threads} and OMP_WAIT_POLICY=PASSIVE for both;"
      f" torch.set_num_threads({threads}); -XX:ActiveProcessorCount={threads} for the SideBySide JVMs)")
print(f"versions: {java}; torch {torch_version} (Debian python3-torch); DL4J/ND4J 1.0.0-M2.1,"
      " nd4j-native linux-x86_64-onednn")
print("load avg: " + "; ".join(f"{k} {v}" for k, v in loads.items())
      + "  (1/5/15 min, read after each part; above nproc, other work shared the CPUs)")
if quick == "1":
    print("QUICK=1: a shortened job (1 dense epoch, 2 steps of 50 iterations) -- NOT the recipe's figures")

rows = []  # (figure, shears, torch, ratio or None, goal, verdict)

if "throughput" in parts:
    r = results("throughput")
    for phase, label in (("dense", "dense training"), ("masked", "masked fine-tuning (90 %)")):
        a, b = float(r[f"{phase}_shears_samples_per_s"]), float(r[f"{phase}_torch_samples_per_s"])
        ratio = float(r[f"{phase}_ratio"])
        rows.append((f"{label}, samples/s, in turns", f"{a:,.0f}", f"{b:,.0f}", ratio, ">= 1.0x",
                     verdict(ratio >= 1.0) + f" (q1..q3 {float(r[phase + '_ratio_q1']):.2f}.."
                     f"{float(r[phase + '_ratio_q3']):.2f})"))

if "job" in parts:
    s = json.load(open(path("shears-job/summary.json")))
    t = results("torch_job")
    steps = s["steps"]
    dense = steps[0]
    # Progress counts iterations x batch size; an epoch is 938 batches of which the last holds 32, so a
    # whole number of epochs is exactly 60000 samples each.
    dense_seconds = dense["iterations"] * 64 / dense["samplesPerSecond"]
    dense_samples = dense["iterations"] // 938 * 60000 if dense["iterations"] % 938 == 0 else dense["iterations"] * 64
    s_dense = dense_samples / dense_seconds
    ft_samples = sum(x["iterations"] * 64 for x in steps[1:])
    ft_seconds = sum(x["iterations"] * 64 / x["samplesPerSecond"] for x in steps[1:])
    s_ft = ft_samples / ft_seconds
    t_dense, t_ft = float(t["dense_samples_per_s"]), float(t["finetune_samples_per_s"])
    rows.append(("dense training, samples/s, in the job", f"{s_dense:,.0f}", f"{t_dense:,.0f}", s_dense / t_dense,
                 ">= 1.0x", verdict(s_dense / t_dense >= 1.0)))
    rows.append(("masked fine-tuning, samples/s, in the job", f"{s_ft:,.0f}", f"{t_ft:,.0f}", s_ft / t_ft,
                 ">= 1.0x", verdict(s_ft / t_ft >= 1.0)))

if "mask" in parts:
    sm, tm = results("shears_mask"), results("torch_mask")
    for key, label in (("mask_oneshot_ms", "global mask LeNet-5, one shot 0.9, ms"),
                       ("mask_step_ms", "global mask LeNet-5, a job step 0.5->0.9, ms")):
        a, b = float(sm[key]), float(tm[key])
        rows.append((label, f"{a:.3f}", f"{b:.3f}", a / b, "<= 0.5x", verdict(a / b <= 0.5)))

if "mask84" in parts and mask84_mode != "skip":
    m = None
    for line in open(path("mask84.log")):
        if line.startswith("global L1, 20 x 2048x2048"):  # the first such line: the timing table, not memory
            m = re.match(r"global L1, 20 x 2048x2048 @0\.5\s+([\d.]+)(?: ±[\d.]+)?\s+([\d.]+)", line)
            break
    if m:
        a, b = float(m.group(1)), float(m.group(2))
        rows.append(("global mask 84M (20 x 2048x2048) 0.5, ms", f"{a:.0f}", f"{b:.0f}", a / b, "<= 0.5x",
                     verdict(a / b <= 0.5)))

if "job" in parts:
    s_wall, s_cpu = timing("shears_job")
    t_wall, t_cpu = timing("torch_job")
    s_acc, t_acc = s["finalAccuracy"], float(t["final_accuracy"])
    rows.append(("whole job, wall s (process)", f"{s_wall:.1f}", f"{t_wall:.1f}", s_wall / t_wall, "< 1.0x",
                 verdict(s_wall < t_wall)))
    rows.append(("whole job, CPU s (user+sys, all threads)", f"{s_cpu:.1f}", f"{t_cpu:.1f}", s_cpu / t_cpu, "-", ""))
    diff = 100 * (s_acc - t_acc)
    rows.append(("final test accuracy (90 %)", f"{s_acc:.4f}", f"{t_acc:.4f}", None, "within 0.3 pt",
                 f"{diff:+.2f} pt: " + ("met" if abs(diff) <= 0.3 else
                                        "met as 'not 0.3 pt below' (Shears higher)" if diff > 0 else "NOT MET")))

if rows:
    print()
    hdr = f"{'figure':<48} {'Shears':>10} {'PyTorch':>10} {'S/P':>7}  {'goal':<13} verdict"
    print(hdr)
    print("-" * len(hdr))
    for what, a, b, ratio, goal, v in rows:
        print(f"{what:<48} {a:>10} {b:>10} {('%.3f' % ratio) if ratio is not None else '':>7}  {goal:<13} {v}")

if "throughput" in parts:
    r = results("throughput")
    print()
    print(f"throughput in turns: {r['pairs']} pairs of {r['block']}-iteration blocks per phase, the order flipping every"
          " pair; medians of the blocks, ratio = median of the per-pair ratios. Samples per CPU-second (all threads of"
          f" each process): dense Shears {float(r['dense_shears_samples_per_cpu_s']):,.0f}, PyTorch"
          f" {float(r['dense_torch_samples_per_cpu_s']):,.0f}; masked Shears {float(r['masked_shears_samples_per_cpu_s']):,.0f},"
          f" PyTorch {float(r['masked_torch_samples_per_cpu_s']):,.0f}.")
    for line in open(path("throughput.err")):
        if re.match(r"\s*(dense|masked):", line):
            print("  " + line.strip())

if "job" in parts:
    steps_seconds = sum(x["seconds"] for x in steps)
    t_train = float(t["dense_seconds"]) + float(t["finetune_seconds"])
    t_step_other = float(t["eval_seconds"]) + float(t["prune_in_job_ms"]) / 1000
    t_job = float(t["job_seconds"])
    print()
    print(f"{'job detail':<58} {'Shears':>9} {'PyTorch':>9}")
    print(f"{'  dense test accuracy':<58} {s['denseAccuracy']:>9.4f} {float(t['dense_accuracy']):>9.4f}")
    print(f"{'  final sparsity over the pruned weights':<58} {steps[-1]['achievedSparsity']:>9.6f}"
          f" {float(t['final_sparsity']):>9.6f}")
    print(f"{'  training, s: dense phase':<58} {dense_seconds:>9.1f} {float(t['dense_seconds']):>9.1f}")
    print(f"{'  training, s: fine-tuning (10 steps)':<58} {ft_seconds:>9.1f} {float(t['finetune_seconds']):>9.1f}")
    print(f"{'  pruning + evaluation (11 x 10,000 test images), s':<58} {steps_seconds - dense_seconds - ft_seconds:>9.1f}"
          f" {t_step_other:>9.1f}")
    print(f"{'  data loading, checkpoints, finalize/publication, s':<58} {s['seconds'] - steps_seconds:>9.1f}"
          f" {t_job - t_train - t_step_other:>9.1f}")
    print(f"{'  job, s (in the process)':<58} {s['seconds']:>9.1f} {t_job:>9.1f}")
    print(f"{'  process, s (with JVM start / Python and torch import)':<58} {s_wall:>9.1f} {t_wall:>9.1f}")
    print(f"  (PyTorch: evaluation {float(t['eval_seconds']):.1f} s, pruning {float(t['prune_in_job_ms']):.0f} ms,"
          f" checkpoints {float(t['checkpoint_seconds']):.2f} s, finalize {float(t['finalize_seconds']):.2f} s;"
          " Shears' publication also compacts, measures latency and writes the sparse encoding)")
    tsteps = {}
    for line in open(path("torch_job.err")):
        mm = re.match(r"step (\d+)\s.*accuracy ([\d.]+).*?(\d+) samples/s", line)
        if mm:
            tsteps[int(mm.group(1))] = (float(mm.group(2)), float(mm.group(3)))
    print("  step  target    accuracy S | P     samples/s S | P    decision (Shears)")
    for x in steps:
        ta, tr = tsteps.get(x["seq"], (float("nan"), float("nan")))
        print(f"  {x['seq']:>4}  {100 * x['targetSparsity']:6.2f}%  {x['accuracy']:.4f} | {ta:.4f}"
              f"   {x['samplesPerSecond']:7.0f} | {tr:7.0f}   {x['decision']}")

if "mask" in parts:
    print()
    print(f"mask on LeNet-5 (61,470 weights of conv1..fc3): medians of {sm['mask_reps']} (Shears) and {tm['mask_reps']}"
          " (PyTorch) warm repetitions, each from the same unpruned values; minima: Shears"
          f" {float(sm['mask_oneshot_min_ms']):.3f} / {float(sm['mask_step_min_ms']):.3f} ms, PyTorch"
          f" {float(tm['mask_oneshot_min_ms']):.3f} / {float(tm['mask_step_min_ms']):.3f} ms (one shot / step)")

if "mask84" in parts and mask84_mode != "skip":
    print()
    print("bench/mask-vs-torch.sh" + (f" (reused from {mask84_mode})" if mask84_mode != "run" else "") + ":")
    for line in open(path("mask84.log")):
        if line.strip():
            print("  " + line.rstrip())

if "job" in parts:
    print()
    print(f"PyTorch's files, from its job at 90 %: last checkpoint {int(t['checkpoint_bytes'])} B (model state_dict"
          " with weight_orig and float32 weight_mask, optimizer momentum), final state_dict after prune.remove"
          f" {int(t['model_bytes'])} B (dense float32); Shears' sparse artifact and checkpoint sizes:"
          " bench/compaction.sh")
