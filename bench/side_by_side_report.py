#!/usr/bin/python3
"""The tables of bench/side-by-side.sh, from the logs its parts left in one directory.

  /usr/bin/python3 bench/side_by_side_report.py DIR REPS "PARTS" QUICK

(bench/side-by-side.sh calls it; run it again on a directory kept with KEEP=DIR to print the tables again.) Ratios
are Shears / PyTorch: above 1 is faster for throughputs, below 1 is faster for times. Every figure of the whole job
is the median of the runs with their range (min..max).
"""
import datetime
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import machine  # noqa: E402

tmp, reps, parts, quick = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4]


def path(name):
    return os.path.join(tmp, name)


def results(name):
    d = {}
    if os.path.exists(path(name)):
        for line in open(path(name)):
            if line.startswith("RESULT "):
                k, v = line[7:].rstrip("\n").split("=", 1)
                d[k] = v
    return d


def time_v(name):
    """Wall s, CPU s (user + system) and peak RSS (MB) of a process, from /usr/bin/time -v."""
    t = {}
    for line in open(path(name)):
        k, _, v = line.strip().rpartition(": ")
        t[k] = v
    wall = 0.0
    for part in t["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
        wall = wall * 60 + float(part)
    cpu = float(t["User time (seconds)"]) + float(t["System time (seconds)"])
    return wall, cpu, int(t["Maximum resident set size (kbytes)"]) / 1024


def spread(values, fmt):
    """median (min..max)"""
    m = statistics.median(values)
    return f"{fmt.format(m)} ({fmt.format(min(values))}..{fmt.format(max(values))})" if len(values) > 1 else fmt.format(m)


setup = dict(line.rstrip("\n").split("=", 1) for line in open(path("setup")))
loads = [line.split(None, 1) for line in open(path("loads"))] if os.path.exists(path("loads")) else []
cpu, nproc, java = machine.describe()
start = open(path("start")).read().strip()
last_write = max(os.path.getmtime(os.path.join(tmp, f)) for f in os.listdir(tmp) if os.path.isfile(os.path.join(tmp, f)))
end = datetime.datetime.fromtimestamp(last_write).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")

print()
print(f"machine : {os.uname().nodename}, nproc={nproc}, CPU: {cpu}")
print(f"date    : {start} .. {end}")
print(f"pinning : taskset -c {setup['cpus']} for every process; {setup['threads']} thread(s): OMP_NUM_THREADS,"
      f" OPENBLAS_NUM_THREADS, MKL_NUM_THREADS={setup['threads']}, OMP_WAIT_POLICY=PASSIVE for both;"
      f" torch.set_num_threads({setup['threads']}); JVMs -XX:ActiveProcessorCount={setup['threads']}")
jvm_line = next((line.split("JVM: ", 1)[1].strip() for line in open(path("shears_job_1.err")) if "JVM: " in line),
                "?") if os.path.exists(path("shears_job_1.err")) else "?"
print(f"shears  : {java}; DL4J/ND4J 1.0.0-M2.1, nd4j-native linux-x86_64-onednn; ./shears train's JVM (its log): {jvm_line}")
print(f"pytorch : {setup['torch_package']} ({setup['openblas_package']}); LD_LIBRARY_PATH={setup['torch_ld_library_path']}"
      f" (the machine's libblas.so.3 alternative: {setup['blas_alternative']})")
torch_job_results = results("torch_job_1.log")
if torch_job_results:
    print(f"          BLAS and oneDNN mapped by the PyTorch job (/proc/self/maps): {torch_job_results.get('blas', '?')}")
if os.path.exists(path("torch-config.txt")):
    config = open(path("torch-config.txt")).read()
    blas = re.search(r"BLAS_INFO=([^,]*)", config)
    dnn = re.search(r"MKL-DNN v([\d.]+)", config)
    print(f"          torch.__config__.show(): BLAS_INFO={blas.group(1) if blas else '?'}, LAPACK_INFO="
          f"{(re.search(r'LAPACK_INFO=([^,]*)', config) or [None, '?'])[1]}, oneDNN (MKL-DNN) "
          f"{dnn.group(1) if dnn else '?'}, {'OpenMP' if 'OpenMP' in config else '?'}"
          f"{', USE_MKLDNN=ON' if 'USE_MKLDNN=ON' in config else ''}")
print("load avg: " + "; ".join(f"{k} {v.strip()}" for k, v in loads)
      + "  (1/5/15 min after each part; above the pinned CPUs' count, other work shared the machine)")
if quick == "1":
    print("QUICK=1: a shortened job (1 dense epoch, 2 steps of 50 iterations), one run each -- NOT the recipe's figures")

rows = []  # (figure, shears, torch, ratio, goal, verdict)


def verdict(ok):
    return "met" if ok else "NOT MET"


if "turns" in parts:
    r = {k: float(v) for k, v in results("turns.log").items()}
    for phase, label in (("dense", "dense training"), ("masked", "masked fine-tuning (90 %)")):
        for what, unit, goal in (("per_cpu_s", "samples/CPU-s", 1.1), ("per_s", "samples/s", None)):
            ratio = r[f"{phase}_ratio_{what}"]
            q = f"(q1..q3 {r[f'{phase}_ratio_{what}_q1']:.2f}..{r[f'{phase}_ratio_{what}_q3']:.2f})"
            rows.append((f"{label}, {unit}, in turns", f"{r[f'{phase}_shears_samples_{what}']:,.0f}",
                         f"{r[f'{phase}_torch_samples_{what}']:,.0f}", ratio,
                         f">= {goal}x" if goal else "-", (verdict(ratio >= goal) + " " if goal else "") + q))
    rows.append(("evaluation of 10,000 test images, s, in turns", f"{r['eval_shears_wall_s']:.3f}",
                 f"{r['eval_torch_wall_s']:.3f}", 1 / r["eval_ratio_per_s"], "-",
                 f"(CPU s {r['eval_shears_cpu_s']:.3f} / {r['eval_torch_cpu_s']:.3f})"))
    rows.append(("one checkpoint, ms, in turns", f"{1000 * r['checkpoint_shears_wall_s']:.1f}",
                 f"{1000 * r['checkpoint_torch_wall_s']:.1f}", 1 / r["checkpoint_ratio_per_s"], "-",
                 "(Shears: model zip + masks + _orig + state.json + MANIFEST, fsync)"))

job = {"shears": [], "torch": []}
if "job" in parts:
    for i in range(1, reps + 1):
        s = json.load(open(path(f"shears-job-{i}/summary.json")))
        steps = s["steps"]
        dense = steps[0]
        dense_seconds = dense["iterations"] * 64 / dense["samplesPerSecond"]
        ft_seconds = sum(x["iterations"] * 64 / x["samplesPerSecond"] for x in steps[1:])
        ft_samples = sum(x["iterations"] * 64 for x in steps[1:])
        # an epoch is 938 batches, the last of 32: whole epochs are exactly 60,000 samples each
        dense_samples = (dense["iterations"] // 938 * 60000 if dense["iterations"] % 938 == 0
                         else dense["iterations"] * 64)
        steps_seconds = sum(x["seconds"] for x in steps)
        wall, cpu_s, rss = time_v(f"shears_job_{i}.timev")
        job["shears"].append(dict(wall=wall, cpu=cpu_s, rss=rss, acc=steps[-1]["testAccuracy"], dense_acc=steps[0]["testAccuracy"],
                                  job=s["seconds"], dense=dense_seconds, ft=ft_seconds,
                                  dense_rate=dense_samples / dense_seconds, ft_rate=ft_samples / ft_seconds,
                                  eval_prune=steps_seconds - dense_seconds - ft_seconds,
                                  other=s["seconds"] - steps_seconds, start=wall - s["seconds"],
                                  sparsity=steps[-1]["achievedSparsity"], steps=steps))
        t = {k: v for k, v in results(f"torch_job_{i}.log").items()}
        wall, cpu_s, rss = time_v(f"torch_job_{i}.timev")
        job["torch"].append(dict(wall=wall, cpu=cpu_s, rss=rss, acc=float(t["final_accuracy"]),
                                 dense_acc=float(t["dense_accuracy"]), job=float(t["job_seconds"]),
                                 dense=float(t["dense_seconds"]), ft=float(t["finetune_seconds"]),
                                 dense_rate=float(t["dense_samples_per_s"]), ft_rate=float(t["finetune_samples_per_s"]),
                                 eval_prune=float(t["eval_seconds"]) + float(t["prune_in_job_ms"]) / 1000,
                                 other=float(t["job_seconds"]) - float(t["dense_seconds"]) - float(t["finetune_seconds"])
                                 - float(t["eval_seconds"]) - float(t["prune_in_job_ms"]) / 1000,
                                 start=wall - float(t["job_seconds"]), sparsity=float(t["final_sparsity"]),
                                 checkpoint=float(t["checkpoint_seconds"]), evaluations=int(t["evaluations"]),
                                 train_cpu=float(t["train_cpu_seconds"])))

    def med(side, key):
        return statistics.median(x[key] for x in job[side])

    def pair(key, fmt):
        return spread([x[key] for x in job["shears"]], fmt), spread([x[key] for x in job["torch"]], fmt)

    s_wall, t_wall = med("shears", "wall"), med("torch", "wall")
    a, b = pair("wall", "{:.1f}")
    rows.append((f"whole job, wall s (process, {reps} runs each)", a, b, s_wall / t_wall, "<= 0.9x",
                 verdict(s_wall <= 0.9 * t_wall)))
    a, b = pair("cpu", "{:.1f}")
    rows.append(("whole job, CPU s (user + system, all threads)", a, b, med("shears", "cpu") / med("torch", "cpu"), "-", ""))
    s_rss, t_rss = med("shears", "rss"), med("torch", "rss")
    a, b = pair("rss", "{:.0f}")
    rows.append(("whole job, peak RSS, MB", a, b, s_rss / t_rss, "<= 2.0x", verdict(s_rss <= 2 * t_rss)))
    s_acc, t_acc = med("shears", "acc"), med("torch", "acc")
    diff = 100 * (s_acc - t_acc)
    a, b = pair("acc", "{:.4f}")
    rows.append(("final test accuracy (90 %)", a, b, None, "within 0.3 pt",
                 f"{diff:+.2f} pt: " + ("met" if abs(diff) <= 0.3 else
                                        "NOT MET (Shears higher)" if diff > 0 else "NOT MET (Shears lower)")))
    for key, label in (("dense_rate", "dense training, samples/s, in the job"),
                       ("ft_rate", "masked fine-tuning, samples/s, in the job")):
        a, b = pair(key, "{:,.0f}")
        rows.append((label, a, b, med("shears", key) / med("torch", key), "-", ""))

if rows:
    print()
    w = max(len(r[1]) for r in rows)
    hdr = f"{'figure':<54} {'Shears':>{w}} {'PyTorch':>{w}} {'S/P':>7}  {'goal':<13} verdict"
    print(hdr)
    print("-" * len(hdr))
    for what, a, b, ratio, goal, v in rows:
        print(f"{what:<54} {a:>{w}} {b:>{w}} {('%.3f' % ratio) if ratio is not None else '':>7}  {goal:<13} {v}")

if "turns" in parts:
    r = {k: float(v) for k, v in results("turns.log").items()}
    print()
    print(f"in turns: {int(r['pairs'])} pairs of {int(r['block'])}-iteration training blocks per phase,"
          f" {int(r['eval_pairs'])} pairs of evaluations, {int(r['checkpoint_pairs'])} of checkpoints; the order flips"
          " every pair; medians of the blocks, ratio = median of the per-pair ratios. CPU time is read inside each"
          " process: the whole process's user + system time (getrusage; the JVM's JIT and GC threads included), and"
          " the training thread's alone:")
    for phase in ("dense", "masked"):
        print(f"  {phase:>6}: samples per thread-CPU-second Shears {r[f'{phase}_shears_samples_per_thread_cpu_s']:,.0f},"
              f" PyTorch {r[f'{phase}_torch_samples_per_thread_cpu_s']:,.0f} (ratio {r[f'{phase}_ratio_per_thread_cpu_s']:.3f});"
              f" per-pair ratio range per CPU-second {r[f'{phase}_ratio_per_cpu_s_min']:.2f}..{r[f'{phase}_ratio_per_cpu_s_max']:.2f},"
              f" per second {r[f'{phase}_ratio_per_s_min']:.2f}..{r[f'{phase}_ratio_per_s_max']:.2f}")

if "job" in parts:
    print()
    print(f"job detail, median (min..max) of {reps} runs each            Shears                 PyTorch")

    def line(label, key, fmt):
        a, b = pair(key, fmt)
        print(f"  {label:<56} {a:>20} {b:>22}")
    line("dense test accuracy", "dense_acc", "{:.4f}")
    line("final sparsity over the pruned weights", "sparsity", "{:.6f}")
    line("training, s: dense phase (3 epochs)", "dense", "{:.1f}")
    line("training, s: fine-tuning (10 steps)", "ft", "{:.1f}")
    line("pruning + evaluation after every step, s", "eval_prune", "{:.1f}")
    line("data loading, checkpoints, finalize/publication, s", "other", "{:.1f}")
    line("job, s (in the process)", "job", "{:.1f}")
    line("start: JVM / Python and torch import, s (process - job)", "start", "{:.1f}")
    t = job["torch"][0]
    print(f"  PyTorch: {t['evaluations']} evaluations; checkpoints {spread([x['checkpoint'] for x in job['torch']], '{:.2f}')} s"
          f" in the job; training CPU s {spread([x['train_cpu'] for x in job['torch']], '{:.1f}')}.")
    if "turns" in parts:
        r = {k: float(v) for k, v in results("turns.log").items()}
        n = len(job["shears"][0]["steps"])
        print(f"  Shears' checkpoints: {n} in a job x {1000 * r['checkpoint_shears_wall_s']:.1f} ms (in turns) ="
              f" {n * r['checkpoint_shears_wall_s']:.2f} s; PyTorch's {n} x {1000 * r['checkpoint_torch_wall_s']:.1f} ms"
              f" = {n * r['checkpoint_torch_wall_s']:.2f} s. Shears' publication also compacts, measures latency and"
              " writes the sparse encoding.")
    print("  step  target    accuracy S | P     samples/s S | P    decision (Shears)   [run 1]")
    tsteps = {}
    for line_ in open(path("torch_job_1.err")):
        mm = re.match(r"step (\d+)\s.*accuracy ([\d.]+).*?(\d+) samples/s", line_)
        if mm:
            tsteps[int(mm.group(1))] = (float(mm.group(2)), float(mm.group(3)))
    for x in job["shears"][0]["steps"]:
        ta, tr = tsteps.get(x["seq"], (float("nan"), float("nan")))
        print(f"  {x['seq']:>4}  {100 * x['targetSparsity']:6.2f}%  {x['accuracy']:.4f} | {ta:.4f}"
              f"   {x['samplesPerSecond']:7.0f} | {tr:7.0f}   {x['decision']}")

if "mask" in parts:
    sm, tm = results("shears_mask.log"), results("torch_mask.log")
    print()
    for key, label in (("mask_oneshot_ms", "global mask LeNet-5, one shot 0.9, ms"),
                       ("mask_step_ms", "global mask LeNet-5, a job step 0.5->0.9, ms")):
        a, b = float(sm[key]), float(tm[key])
        print(f"{label:<54} {a:>10.3f} {b:>10.3f} {a / b:7.3f}  <= 0.5x        {verdict(a / b <= 0.5)}")
    print(f"  medians of {sm['mask_reps']} (Shears) and {tm['mask_reps']} (PyTorch) warm repetitions, each from the same"
          f" unpruned values; minima: Shears {float(sm['mask_oneshot_min_ms']):.3f} / {float(sm['mask_step_min_ms']):.3f} ms,"
          f" PyTorch {float(tm['mask_oneshot_min_ms']):.3f} / {float(tm['mask_step_min_ms']):.3f} ms (one shot / step)")

if "mask84" in parts and os.path.exists(path("mask84.log")):
    print()
    print("bench/mask-vs-torch.sh (pinned like the rest):")
    for line_ in open(path("mask84.log")):
        if line_.strip():
            print("  " + line_.rstrip())
