"""The Markdown report of bench/pipeline-overhead.sh, from the outputs it collected in one directory.

Usage: python3 bench/pipeline_report.py DIR COMMAND
  DIR holds start, load_start, load_end, load_latency, load_scale, latency.log (PipelineLatency's LATENCY, TO_STEP,
  DELIVERY, HANDOFF, MASK, REACTION, WORKER_STEP, CYCLE, METRIC lines), kafka-50-10.log, kafka-0-10.log and
  kafka-0-100.log (TransactionProbe's COMMIT and DELIVERY lines; the gap and retry.backoff.ms in the name, the load
  before in load_kafka-GAP-RETRY) and scale.log (SchedulerScale's SCALE, SCALE_SPLIT, STOP and VIOLATION lines).
"""
import os
import sys

from machine import describe

LATENCY_GOAL_MS = 50.0   # p99 of PruneStep created -> mask applied
LAG_GOAL_MS = 1000.0     # the scheduler's lag in time: report created -> its next command created
JOBS_GOAL = 1000


def kv(line):
    return dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)


def read(path, default=""):
    return open(path).read().strip() if os.path.exists(path) else default


def lines(path, prefix):
    return [l.rstrip("\n") for l in open(path) if l.startswith(prefix)] if os.path.exists(path) else []


def machine():
    return describe()


def ms(v):
    return f"{float(v):.1f}"


def latency_section(d, out):
    path = os.path.join(d, "latency.log")
    if not os.path.exists(path):
        return
    rows = {l.split()[0]: kv(l) for l in lines(path, "") if l.split() and l.split()[0] in
            ("RECIPE", "LATENCY", "TO_STEP", "DELIVERY", "HANDOFF", "MASK", "REACTION", "WORKER_STEP", "CYCLE")}
    recipe = rows.get("RECIPE", {})
    out.append("## PruneStep latency, scheduler to mask applied")
    out.append("")
    out.append(f"A local pipeline (KRaft broker, scheduler, one worker, each its own JVM, loopback) runs one LeNet-5 job"
               f" on the committed Fashion-MNIST subset: {recipe.get('steps', '?')} steps of"
               f" {recipe.get('iterations', '?')} fine-tuning iterations, "
               f"{recipe.get('dense_epochs', '?')} dense epoch(s); the job ended `{recipe.get('state', '?')}`. Each"
               " PruneStep is created and produced by the scheduler in a transaction, read by the worker"
               " (read_committed) and its mask applied; the worker's `shears.worker.command.latency` measures from the"
               " event's `time` to the mask in place (one clock: one machine). The other rows come from the events'"
               " times in the topics. Nearest-rank percentiles over every step, in ms.")
    out.append("")
    out.append("| path | n | p50 | p90 | p99 | max | goal |")
    out.append("|---|---|---|---|---|---|---|")
    names = [("LATENCY", "PruneStep created → mask applied (worker)"),
             ("TO_STEP", "… of which: created → the worker's step starts (commit, delivery, dispatch, checkpoint state read)"),
             ("DELIVERY", "… … created → polled by the worker (the scheduler's transaction, Kafka's read_committed delivery)"),
             ("HANDOFF", "… … polled → the worker's step starts (dispatch, job lock, checkpoint state read)"),
             ("MASK", "… of which: computing and applying the mask (global L1 over LeNet-5)"),
             ("REACTION", "StepCompleted k created → next command created (scheduler's reaction)"),
             ("WORKER_STEP", "PruneStep k created → StepCompleted k created (delivery, mask, evaluation, checkpoint)"),
             ("CYCLE", "PruneStep k → PruneStep k+1 (the closed loop)")]
    for key, label in names:
        r = rows.get(key)
        if not r:
            continue
        goal = ""
        if key == "LATENCY":
            goal = f"p99 < {LATENCY_GOAL_MS:.0f} ms: **{'met' if float(r['p99_ms']) < LATENCY_GOAL_MS else 'missed'}**"
        out.append(f"| {label} | {r['n']} | {ms(r['p50_ms'])} | {ms(r['p90_ms'])} | {ms(r['p99_ms'])} |"
                   f" {ms(r['max_ms'])} | {goal} |")
    metric = [l[len("METRIC "):] for l in lines(path, "METRIC ")]
    if metric:
        out.append("")
        out.append("The worker's `/metrics` at the end: the timer's count and max (seconds), and how many PruneSteps"
                   " fell in the histogram's buckets up to about 50 ms:")
        out.append("")
        out.append("```")
        out.extend(metric)
        out.append("```")
    out.append("")


def kafka_section(d, out):
    runs = []
    for name, label in (("kafka-50-10", "50 ms apart, retry 10 ms"), ("kafka-0-10", "back to back, retry 10 ms"),
                        ("kafka-0-100", "back to back, retry 100 ms (Kafka's default)")):
        rows = {l.split()[0]: kv(l) for l in lines(os.path.join(d, f"{name}.log"), "") if l.split()
                and l.split()[0] in ("COMMIT", "DELIVERY")}
        if rows:
            runs.append((name, label, rows))
    if not runs:
        return
    out.append("## Kafka's part alone")
    out.append("")
    out.append("`TransactionProbe`, no Shears code: an embedded broker like the pipeline's, a transactional producer"
               " writing what the scheduler writes for one report (a command, a state record, the consumed offsets,"
               " commit) and a read_committed consumer like the worker's. *Commit*: begin to `commitTransaction`"
               " returned; *delivery*: begin to the record in the consumer's hands. *Retry*: the producer's"
               " `retry.backoff.ms`, after which a transaction begun while the broker still writes the previous"
               " one's markers (CONCURRENT_TRANSACTIONS) is tried again; the scheduler's is 10 ms. 200 transactions,"
               " in ms.")
    out.append("")
    out.append("| transactions | measure | n | p50 | p90 | p99 | max | load before |")
    out.append("|---|---|---|---|---|---|---|---|")
    for name, label, rows in runs:
        for key in ("COMMIT", "DELIVERY"):
            r = rows.get(key)
            if r:
                out.append(f"| {label} | {key.lower()} | {r['n']} | {ms(r['p50_ms'])} | {ms(r['p90_ms'])} |"
                           f" {ms(r['p99_ms'])} | {ms(r['max_ms'])} | {read(os.path.join(d, f'load_{name}'), '?')} |")
    out.append("")


def scale_section(d, out):
    path = os.path.join(d, "scale.log")
    if not os.path.exists(path):
        return
    runs = [kv(l) for l in lines(path, "SCALE ")]
    out.append("## Concurrent jobs one scheduler drives")
    out.append("")
    if runs:
        r0 = runs[0]
        out.append(f"One broker; per N a new scheduler (in-process `SchedulerService`, its own topics) and an instant fake"
                   f" worker that answers each command as soon as it reads it (read_committed). N jobs of"
                   f" {r0['steps']} steps are submitted through `POST /jobs` from {r0['clients']} threads as fast as"
                   " they are taken, then all run to publication. *Reaction* is a report's creation to the job's next"
                   " command's creation (from the topics): the scheduler's lag in time, which the goal bounds. *Lag"
                   " (records)* is `shears_consumer_lag{service=\"scheduler\"}` sampled every 100 ms. *Exactly once*:"
                   " every job has JobStarted, PruneStep 1..steps, Finalize, and StepCompleted 0..steps,"
                   " ModelPublished, each once, in order.")
    out.append("")
    out.append("| jobs | accepted | published | submit (s) | run (s) | events | events/s | reaction p50 (ms) |"
               " p90 | p99 | max | lag records p50 / p99 / max | exactly once | max lag < 1 s |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    best = None
    for r in runs:
        ok = float(r["reaction_max_ms"]) < LAG_GOAL_MS and r["exactly_once"] == "true" and r["published"] == r["jobs"]
        if ok:
            best = max(best or 0, int(r["jobs"]))
        out.append(f"| {r['jobs']} | {r['accepted']} | {r['published']} | {float(r['submit_s']):.1f} |"
                   f" {float(r['run_s']):.1f} | {r['events']} | {float(r['events_per_s']):.0f} |"
                   f" {ms(r['reaction_p50_ms'])} | {ms(r['reaction_p90_ms'])} | {ms(r['reaction_p99_ms'])} |"
                   f" {ms(r['reaction_max_ms'])} | {r['lag_records_p50']} / {r['lag_records_p99']} /"
                   f" {r['lag_records_max']} | {'yes' if r['exactly_once'] == 'true' else 'no (' + r['violations'] + ')'} |"
                   f" {'yes' if ok else 'no'} |")
    splits = [kv(l) for l in lines(path, "SCALE_SPLIT ")]
    if splits:
        out.append("")
        out.append("Reaction (ms) to reports created while jobs were still being submitted (each `POST /jobs` is a"
                   " transaction of its own on the scheduler's one engine thread, between batches of reports) and"
                   " after the last submission:")
        out.append("")
        out.append("| jobs | while submitting: n | p50 | p99 | max | afterwards: n | p50 | p99 | max |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for r in splits:
            out.append(f"| {r['jobs']} | {r['while_submitting_n']} | {ms(r['while_submitting_p50_ms'])} |"
                       f" {ms(r['while_submitting_p99_ms'])} | {ms(r['while_submitting_max_ms'])} | {r['after_n']} |"
                       f" {ms(r['after_p50_ms'])} | {ms(r['after_p99_ms'])} | {ms(r['after_max_ms'])} |")
    for l in lines(path, "STOP ") + lines(path, "VIOLATION ")[:5]:
        out.append("")
        out.append(f"`{l}`")
    out.append("")
    verdict = "met" if best is not None and best >= JOBS_GOAL else "missed"
    out.append(f"Largest N with every job published exactly once and max reaction < 1 s: "
               f"**{best if best is not None else 'none'}** (goal ≥ {JOBS_GOAL:,}: **{verdict}**).")
    out.append("")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    d, command = sys.argv[1], sys.argv[2]
    cpu, nproc, java = machine()
    out = ["# Pipeline overhead", ""]
    out.append(f"`{command}` on {cpu}, {nproc} CPUs, {java}; {read(os.path.join(d, 'start'))}. Load average (1, 5, 15"
               f" min) at the start {read(os.path.join(d, 'load_start'), '?')}, before the latency run"
               f" {read(os.path.join(d, 'load_latency'), '-')}, before the scale runs"
               f" {read(os.path.join(d, 'load_scale'), '-')}, at the end {read(os.path.join(d, 'load_end'), '?')}"
               " (the machine is shared with other work).")
    out.append("")
    latency_section(d, out)
    kafka_section(d, out)
    scale_section(d, out)
    print("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
