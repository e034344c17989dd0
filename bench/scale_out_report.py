"""The Markdown report of bench/scale-out.sh, from the outputs it collected in one directory.

Usage: python3 bench/scale_out_report.py DIR COMMAND
  DIR holds start (the date), loads (the 1-minute load average every 5 s), throughput.log (ScaleOut's ASSIGN, JOB,
  THROUGHPUT and RATIO lines) and idle.log (ScaleOut's ASSIGN, RAN and IDLE lines).
"""
import os
import sys

from pipeline_report import kv, lines
from scheduler_load_report import header


def throughput_section(d, out):
    path = os.path.join(d, "throughput.log")
    runs = [kv(l) for l in lines(path, "THROUGHPUT ")]
    if not runs:
        return
    r0 = runs[0]
    out.append("## Two workers against one, two jobs\n")
    out.append(f"Two LeNet-5 jobs on the real Fashion-MNIST ({r0['dense_epochs']} dense epoch, {r0['steps']} pruning "
               f"steps of {r0['iterations']} fine-tuning iterations, evaluation after each), submitted at once. Each "
               "worker pinned to its own core (`taskset -a -p -c`), `-XX:ActiveProcessorCount=1`, one OpenMP thread. "
               "Span: the first `JobStarted` created to the last `ModelPublished` created.\n")
    out.append("| workers | cores | span (s) | jobs per hour | each worker's CPU (s) | jobs (worker: s) |")
    out.append("|---|---|---|---|---|---|")
    for r in runs:
        jobs = ", ".join(f"{j['job']} on {j['worker']}: {j['seconds']}" for j in map(kv, lines(path, "JOB "))
                         if j["workers"] == r["workers"])
        out.append(f"| {r['workers']} | {r['cores']} | {r['span_s']} | {r['jobs_per_hour']} | "
                   f"{r['worker_cpu_s'].replace(',', ', ')} | {jobs} |")
    for l in lines(path, "RATIO "):
        r = kv(l)
        out.append(f"\nThroughput ratio, two workers over one: **{r['speedup']}x** ({r['one_worker_span_s']} s against "
                   f"{r['two_workers_span_s']} s).\n")
    out.append("Assignment of the commands topic in the two-worker run:\n")
    out.extend(f"    {l}" for l in lines(path, "ASSIGN workers=2"))
    out.append("")


def idle_section(d, out):
    path = os.path.join(d, "idle.log")
    found = lines(path, "IDLE ")
    if not found:
        return
    r = kv(found[0])
    out.append("## Partitions against idle workers\n")
    out.append(f"A commands topic of {r['partitions']} partitions, {r['workers']} workers in the group, {r['jobs']} "
               "small jobs submitted at once (no dense epoch, one step of 20 iterations). A partition goes to one "
               "consumer of the group, so at most as many workers as partitions ever get a command.\n")
    out.append("| worker | partitions assigned | steps it ran |")
    out.append("|---|---|---|")
    for l in lines(path, "RAN "):
        w = kv(l)
        out.append(f"| {w['worker']} | {w['partitions']} | {w['steps']} |")
    out.append(f"\nIdle workers: **{r['idle_workers']}** ({r['idle'] or 'none'}); with P partitions and W > P workers, "
               "W - P stay idle: the partition count bounds the workers that can train at once (`--partitions` of "
               "the scheduler, which creates the topic).\n")


def main():
    d, command = sys.argv[1], sys.argv[2]
    out = header(d, command, "Scaling out")
    throughput_section(d, out)
    idle_section(d, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()
