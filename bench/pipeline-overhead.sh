#!/usr/bin/env bash
# The pipeline's own overhead, in one go (issue 7, item 4):
#
#   latency  PipelineLatency: a LocalPipeline (KRaft broker, scheduler, 1 worker, each its own JVM, loopback) runs one
#            LeNet-5 job on the committed Fashion-MNIST subset with STEPS steps and no fine-tuning; every PruneStep's
#            latency from its creation by the scheduler (event time) to its mask applied on the worker
#            (shears.worker.command.latency, as the worker logs it), p50/p90/p99/max (goal: p99 < 50 ms); and from the
#            events' times in the topics, the scheduler's reaction (StepCompleted k -> PruneStep k+1) and the cycle
#   kafka    TransactionProbe: Kafka's part alone, no Shears: what the scheduler writes for one report (a command, a
#            state record, the offsets) in one transaction, to a read_committed consumer like the worker's; commit
#            and delivery times, transactions 50 ms apart (a closed loop) and back to back (a busy scheduler), with
#            the scheduler's retry.backoff.ms (10 ms) and, back to back, with Kafka's default (100 ms) for comparison
#   scale    SchedulerScale: one scheduler in-process and an instant fake worker (answers at once, read_committed);
#            for each N in JOBS, N jobs submitted through POST /jobs as fast as they are taken, all run to
#            publication: the scheduler's reaction time (report created -> its next command created; the lag in
#            time), its consumer lag in records (sampled every 100 ms), events/s, and whether every job was published
#            with each command and report exactly once (goal: >= 1,000 jobs with under 1 s of lag)
#
# Builds bench/target/benchmarks.jar when missing or older than the sources, then prints a Markdown report and writes
# it to bench/results/pipeline.md (with the machine, the date, the command and the load average).
#
# Usage: bench/pipeline-overhead.sh          (from anywhere)
#   PARTS="latency kafka scale"   what to run
#   STEPS=200               steps of the latency job (a p99 needs 100 or more: over 50 it is the maximum)
#   JOBS="100,500,1000,2000"  job counts of the scale runs (stops at the first that does not finish)
#   SCALE_STEPS=10          steps of each scale job
#   CLIENTS=8               threads submitting jobs
#   OUT=FILE                where the report goes (default bench/results/pipeline.md; "-" for stdout only)
#   KEEP=DIR                keep the raw outputs in DIR; python3 bench/pipeline_report.py DIR CMD prints the report again
#   REBUILD=1               rebuild the jar even when it is up to date
set -euo pipefail

NAME=pipeline-overhead
RESULT=pipeline
MODULES="prune common trainer scheduler deploy bench"
# shellcheck source=bench/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
init "latency kafka scale" CLIENTS SCALE_STEPS JOBS STEPS PARTS
SUBSET="$ROOT/trainer/src/test/resources/fashion-mnist-subset"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

[ -f "$SUBSET/train-images-idx3-ubyte.gz" ] || die "no Fashion-MNIST subset in $SUBSET (fix: a full checkout)"

build_jar
start_run
load > "$TMP/load_start"

if has latency; then
    echo "== PipelineLatency, ${STEPS:-200} steps, load $(load)" >&2
    load > "$TMP/load_latency"
    java -Xmx1g -cp "$JAR" dev.shears.bench.PipelineLatency --data "$SUBSET" --steps "${STEPS:-200}" \
        --dir "$TMP/latency" > "$TMP/latency.log" 2> "$TMP/latency.err" \
        || { tail -30 "$TMP/latency.err" >&2; cat "$TMP/latency.log" >&2; die "PipelineLatency failed (log above)"; }
    grep -E '^(LATENCY|TO_STEP|MASK|REACTION|WORKER_STEP|CYCLE)' "$TMP/latency.log" >&2
fi
if has kafka; then
    # GAP:RETRY — the scheduler's retry.backoff.ms (10), and Kafka's default (100) back to back for comparison
    for run in 50:10 0:10 0:100; do
        gap="${run%%:*}" retry="${run##*:}" name="kafka-${run/:/-}"
        echo "== TransactionProbe, transactions ${gap} ms apart, retry.backoff.ms $retry, load $(load)" >&2
        load > "$TMP/load_$name"
        java -Xmx1g -cp "$JAR" dev.shears.bench.TransactionProbe --count 200 --gap-ms "$gap" \
            --retry-backoff-ms "$retry" --dir "$TMP/$name" > "$TMP/$name.log" 2> "$TMP/$name.err" \
            || { tail -30 "$TMP/$name.err" >&2; die "TransactionProbe failed (log above)"; }
        grep -E '^(COMMIT|DELIVERY)' "$TMP/$name.log" >&2
    done
fi
if has scale; then
    echo "== SchedulerScale, jobs ${JOBS:-100,500,1000,2000}, load $(load)" >&2
    load > "$TMP/load_scale"
    # exit 1 means a count did not finish: the report says so, and which counts did
    java -Xmx2g -cp "$JAR" dev.shears.bench.SchedulerScale --jobs "${JOBS:-100,500,1000,2000}" \
        --steps "${SCALE_STEPS:-10}" --clients "${CLIENTS:-8}" --dir "$TMP/scale" \
        > "$TMP/scale.log" 2> "$TMP/scale.err" || tail -30 "$TMP/scale.err" >&2
    grep -E '^(SCALE|STOP|VIOLATION)' "$TMP/scale.log" >&2 || die "SchedulerScale printed no result (log above)"
fi

load > "$TMP/load_end"
stop_sampling
report pipeline_report.py
