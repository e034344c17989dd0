"""The Markdown report of bench/scale-out.sh, from the outputs it collected in one directory.

Usage: python3 bench/scale_out_report.py DIR COMMAND
  DIR holds start (the date), loads (the 1-minute load average every 5 s), throughput.log (ScaleOut's ASSIGN, JOB,
  THROUGHPUT and RATIO lines) and idle.log (ScaleOut's ASSIGN, RAN and IDLE lines).
"""
import os

from pipeline_report import kv, lines
from scheduler_load_report import write


def throughput_section(d, out):
    path = os.path.join(d, "throughput.log")
    runs = [kv(l) for l in lines(path, "THROUGHPUT ")]
    if not runs:
        return
    r0 = runs[0]
    out.append("## Two workers against one, two jobs\n")
    out.append(f"Two LeNet-5 jobs on the real Fashion-MNIST ({r0['dense_epochs']} dense epoch, {r0['steps']} pruning "
               f"steps of {r0['iterations']} fine-tuning iterations, evaluation after each), submitted at once, run by "
               "two workers and by one in alternated runs, each run on a new pipeline. Each worker pinned to its own "
               "core (`taskset -a -p -c`), `-XX:ActiveProcessorCount=1`, one OpenMP thread; one worker takes one step "
               "at a time, so alone it interleaves the two jobs' steps. *Span*: the first `JobStarted` created to the "
               "last `ModelPublished` created. *Core share*: the worker's CPU seconds over the span, the part of its "
               "core it got beside the broker, the scheduler and the machine's other work.\n")
    out.append("| run | workers | cores | span (s) | jobs per hour | each worker's CPU (s) | core share | jobs (worker: s) |")
    out.append("|---|---|---|---|---|---|---|---|")
    jobs = [kv(l) for l in lines(path, "JOB ")]
    for r in runs:
        cpu = [float(c) for c in r["worker_cpu_s"].split(",")]
        share = ", ".join(f"{c / float(r['span_s']):.2f}" for c in cpu)
        done = ", ".join(f"{j['job']} on {j['worker']}: {j['seconds']}" for j in jobs
                         if j["workers"] == r["workers"] and j["run"] == r["run"])
        out.append(f"| {r['run']} | {r['workers']} | {r['cores']} | {r['span_s']} | {r['jobs_per_hour']} | "
                   f"{', '.join(map(str, cpu))} (total {sum(cpu):.1f}) | {share} | {done} |")
    for l in lines(path, "RATIO "):
        r = kv(l)
        out.append(f"\nThroughput ratio, two workers over one (median spans of {r['runs']} runs each): "
                   f"**{r['speedup']}x** ({r['one_worker_span_s']} s against {r['two_workers_span_s']} s).\n")
    out.append("Assignment of the commands topic in the first two-worker run:\n")
    out.extend(f"    {l}" for l in lines(path, "ASSIGN workers=2")[:2])
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
    write("Scaling out", throughput_section, idle_section)


if __name__ == "__main__":
    main()
