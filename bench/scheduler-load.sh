#!/usr/bin/env bash
# The scheduler at real concurrency (issue 16, item 5), in one go:
#
#   load     SchedulerLoad: an embedded KRaft broker, the scheduler in its own JVM (`shears scheduler`, as in
#            production, -Xmx HEAP) and WORKERS fake workers (bench.FakeWorker.slow) in the workers' consumer group that read the
#            commands read_committed and answer them as a worker does, through the common EventCodec: each job's dense
#            step (JobStarted) held DENSE_HOLD s, each PruneStep HOLD s, a JobProgress every PROGRESS s meanwhile, then
#            StepCompleted; Finalize answered with ModelPublished. JOBS jobs of STEPS steps are submitted through
#            POST /jobs as fast as they are taken and run to publication. Reports the jobs in flight at once (steps
#            held by the fake workers at the same moment), the scheduler's reaction (StepCompleted created -> next
#            command created, from the topics; and StepCompleted sent -> next command read by the worker, committed),
#            the scheduler process's CPU seconds and peak heap (jstat -gc every second), the state topic's bytes on
#            disk and records, and whether every job got each command and report exactly once
#   restart  SchedulerStateTest's restart measurement (not duplicated here): RESTART_JOBS ended jobs (three state
#            records each, every tenth deleted) rebuilt by a new scheduler, through mvn test in the scheduler module
#
# Builds bench/target/benchmarks.jar when missing or older than the sources, samples the load average every 5 s
# meanwhile, then prints a Markdown report and writes it to bench/results/scheduler-load.md (machine, date, command,
# load). Not a CPU race: it may run beside other work, and the report records the load it ran under.
#
# Usage: bench/scheduler-load.sh          (from anywhere)
#   QUICK=1          smoke run: 50 jobs, 2 steps, dense step 8 s, steps 4 s, no restart part (under a minute)
#   JOBS=2000        jobs submitted at once (>= 1,000 for issue 16)
#   STEPS=3          pruning steps per job
#   DENSE_HOLD=180   seconds each dense step is held (longer than the submission, so that every job is in flight)
#   HOLD=30          seconds each pruning step is held
#   PROGRESS=2       seconds between JobProgress reports of a step in progress
#   WORKERS=2        fake workers in the group (the commands topic has 6 partitions)
#   HEAP=1g          the scheduler's -Xmx
#   RESTART_JOBS=10000  ended jobs of the restart part; 0 skips it
#   PARTS="load restart"  what to run
#   OUT=FILE         where the report goes (default bench/results/scheduler-load.md; "-" for stdout only)
#   KEEP=DIR         keep the raw outputs (and the scheduler's log) in DIR
#   REBUILD=1        rebuild the jar even when it is up to date
set -euo pipefail

if [ "${QUICK:-0}" = 1 ]; then
    : "${JOBS:=50}" "${STEPS:=2}" "${DENSE_HOLD:=8}" "${HOLD:=4}" "${PARTS:=load}" "${OUT:=-}"
fi
NAME=scheduler-load
MODULES="broker common scheduler deploy bench"
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
init "load restart" QUICK JOBS STEPS DENSE_HOLD HOLD PROGRESS WORKERS HEAP RESTART_JOBS PARTS
command -v jstat >/dev/null || die "no jstat on PATH (fix: a JDK, not a JRE: the scheduler's heap is read with it)"
build_jar
start_run

if has load; then
    echo "== SchedulerLoad, ${JOBS:-2000} jobs, load $(load)" >&2
    java -Xmx2g -cp "$JAR" dev.shears.bench.SchedulerLoad --jobs "${JOBS:-2000}" --steps "${STEPS:-3}" \
        --dense-hold-seconds "${DENSE_HOLD:-180}" --hold-seconds "${HOLD:-30}" \
        --progress-seconds "${PROGRESS:-2}" --workers "${WORKERS:-2}" --scheduler-heap "${HEAP:-1g}" \
        --dir "$TMP/load" > "$TMP/load.log" 2> "$TMP/load.err" \
        || { tail -30 "$TMP/load.err" >&2; cat "$TMP/load.log" >&2; die "SchedulerLoad failed (log above)"; }
    grep -E '^(LOAD|VIOLATION)' "$TMP/load.log" >&2
fi
if has restart && [ "${RESTART_JOBS:-10000}" != 0 ]; then
    echo "== SchedulerStateTest restart, ${RESTART_JOBS:-10000} ended jobs, load $(load)" >&2
    (cd "$ROOT" && mvn -B -o -Dstyle.color=never test -pl scheduler -am \
        -Dtest='SchedulerStateTest#aRestartRebuildsFromTheLastRecordOfEachJob' -Dsurefire.failIfNoSpecifiedTests=false \
        -Dshears.restart.jobs="${RESTART_JOBS:-10000}") > "$TMP/restart.log" 2>&1 \
        || { tail -40 "$TMP/restart.log" >&2; die "the restart test failed (log above)"; }
    grep -E '^restart with' "$TMP/restart.log" >&2 || die "the restart test printed no time ($TMP/restart.log)"
fi

stop_sampling
report scheduler_load_report.py
