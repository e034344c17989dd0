"""The Markdown report of bench/scheduler-load.sh, from the outputs it collected in one directory.

Usage: python3 bench/scheduler_load_report.py DIR COMMAND
  DIR holds start (the date), loads (the 1-minute load average every 5 s), load.log (SchedulerLoad's LOAD and
  VIOLATION lines) and restart.log (SchedulerStateTest's "restart with N ended jobs ...: T ms" line).
"""
import os
import re
import sys

from machine import describe
from pipeline_report import kv, lines, read

JOBS_GOAL = 1000


def load_section(d, out):
    found = lines(os.path.join(d, "load.log"), "LOAD ")
    if not found:
        return
    r = kv(found[0])
    out.append("## Jobs in flight at once\n")
    out.append(f"{r['jobs']} jobs of {r['steps']} steps submitted through `POST /jobs` from 8 threads; {r['workers']} "
               f"fake workers hold each dense step {r['dense_hold_s']} s and each pruning step {r['hold_s']} s, with a "
               f"`JobProgress` every {r['progress_s']} s; the scheduler in its own JVM.\n")
    out.append("| figure | value |")
    out.append("|---|---|")
    rows = [
        ("jobs accepted / published", f"{r['accepted']} / {r['published']}"),
        ("submission (s) / whole run (s)", f"{r['submit_s']} / {r['run_s']}"),
        ("most jobs in flight at once", f"{r['max_in_flight']} (goal >= {JOBS_GOAL})"),
        ("progress reports sent", r["progress_reports"]),
        ("reaction, report created -> next command created: p50 / p99 / max (ms, n)",
         f"{r['reaction_p50_ms']} / {r['reaction_p99_ms']} / {r['reaction_max_ms']} ({r['reaction_n']})"),
        ("reaction, report sent -> next command read by the worker: p50 / p99 / max (ms, n)",
         f"{r['delivered_p50_ms']} / {r['delivered_p99_ms']} / {r['delivered_max_ms']} ({r['delivered_n']})"),
        ("scheduler CPU over the run (s)", r["scheduler_cpu_s"]),
        ("scheduler heap used, most (MB) / old generation, most (MB)",
         f"{r['heap_used_max_mb']} / {r['old_used_max_mb']} ({r['heap_samples']} samples)"),
        ("state topic on disk (bytes) / records", f"{int(r['state_bytes']):,} / {r['state_records']}"),
        ("every command and report exactly once", "yes" if r["exactly_once"] == "true" else
         f"no ({r['violations']} violations)"),
    ]
    out.extend(f"| {k} | {v} |" for k, v in rows)
    out.append("")
    for v in lines(os.path.join(d, "load.log"), "VIOLATION"):
        out.append(f"    {v}")


def restart_section(d, out):
    text = read(os.path.join(d, "restart.log"))
    m = re.search(r"restart with (\d+) ended jobs \((\d+) state records.*?\): (\d+) ms", text)
    if not m:
        return
    out.append("## Restart over ended jobs\n")
    out.append(f"`SchedulerStateTest.aRestartRebuildsFromTheLastRecordOfEachJob` with `-Dshears.restart.jobs={m[1]}`: "
               f"{int(m[1]):,} ended jobs ({int(m[2]):,} state records, every tenth job deleted) rebuilt by a new "
               f"scheduler in **{int(m[3]) / 1000:.1f} s** (in-process `SchedulerService`, from its start to ready).\n")


def header(d, command, title):
    """The report's title, machine, date, load over the run and command, as lines."""
    cpu, nproc, java = describe()
    loads = [float(x) for x in read(os.path.join(d, "loads")).split()]
    return [f"# {title}\n",
            f"Measured {read(os.path.join(d, 'start'))} on {cpu} ({nproc} cores), {java}; 1-minute load average "
            + (f"{min(loads):.1f}-{max(loads):.1f} (mean {sum(loads) / len(loads):.1f}) over the run"
               if loads else "not sampled")
            + " (other work was running on the machine).\n",
            f"Command: `{command}`\n"]


def write(title, *sections):
    """Prints the report of the directory and command given as arguments: the header, then each section(d, out)."""
    d, command = sys.argv[1], sys.argv[2]
    out = header(d, command, title)
    for section in sections:
        section(d, out)
    print("\n".join(out))


def main():
    write("The scheduler at real concurrency", load_section, restart_section)


if __name__ == "__main__":
    main()
