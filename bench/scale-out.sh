#!/usr/bin/env bash
# Scaling out (issue 16, item 6), with real trainer workers (`shears worker`, one JVM each, started by LocalPipeline
# beside an embedded KRaft broker and the scheduler) on the real Fashion-MNIST (/usr/share/datasets/fashion-mnist:
# apt-get install dataset-fashion-mnist):
#
#   throughput  the same two LeNet-5 jobs (DENSE_EPOCHS dense epochs, STEPS pruning steps of ITERATIONS fine-tuning
#               iterations) run by two workers, then by one; each worker pinned to its own core of CORES
#               (taskset -a -p -c) with -XX:ActiveProcessorCount=1 and one OpenMP thread; the job ids are chosen so
#               that the two jobs' commands land on different workers' partitions. Reports each job's time and worker,
#               the span from the first JobStarted to the last ModelPublished, jobs per hour, each worker's CPU
#               seconds and the share of its core it got (CPU / span), and the ratio one worker's span / two
#               workers' (medians of REPEATS alternated runs). On a 2-core machine the broker, the scheduler and
#               whatever else runs share the same two cores, so two workers cannot show x2 there
#   idle        a commands topic of PARTITIONS partitions and IDLE_WORKERS workers (more than partitions): the consumer
#               group's assignment (each partition to one worker, the rest none), and IDLE_JOBS small jobs submitted at
#               once, run by the assigned workers only
#
# Builds bench/target/benchmarks.jar when stale, samples the load average every 5 s meanwhile, prints a Markdown
# report and writes it to bench/results/scale-out.md (machine, date, command, load).
#
# Usage: bench/scale-out.sh          (from anywhere)
#   PARTS="throughput idle"  what to run
#   CORES=0,1         worker 1's core, worker 2's core
#   DENSE_EPOCHS=1    per job
#   STEPS=3           pruning steps per job
#   ITERATIONS=100    fine-tuning iterations per step
#   REPEATS=3         throughput runs of each, alternated two workers, one, two, one, ... (median spans compared)
#   PARTITIONS=2      idle part: the commands topic's partitions
#   IDLE_WORKERS=3    idle part: workers
#   IDLE_JOBS=4       idle part: jobs (no dense epoch, one step of 20 iterations)
#   HEAP=2g           each worker's -Xmx
#   OUT=FILE          where the report goes (default bench/results/scale-out.md; "-" for stdout only)
#   KEEP=DIR          keep the raw outputs (and the processes' logs) in DIR
#   REBUILD=1         rebuild the jar even when it is up to date
set -euo pipefail

NAME=scale-out
MODULES="broker common prune trainer scheduler deploy bench"
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
init "throughput idle" CORES DENSE_EPOCHS STEPS ITERATIONS REPEATS PARTITIONS IDLE_WORKERS IDLE_JOBS HEAP PARTS
command -v taskset >/dev/null || die "no taskset on PATH (fix: apt-get install util-linux)"
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] \
    || die "no Fashion-MNIST in /usr/share/datasets/fashion-mnist (fix: apt-get install dataset-fashion-mnist)"
build_jar
start_run

for part in throughput idle; do
    has "$part" || continue
    case "$part" in
        throughput) args=(--dense-epochs "${DENSE_EPOCHS:-1}" --steps "${STEPS:-3}" --iterations "${ITERATIONS:-100}"
                          --cores "${CORES:-0,1}" --repeats "${REPEATS:-3}") ;;
        idle) args=(--partitions "${PARTITIONS:-2}" --workers "${IDLE_WORKERS:-3}" --jobs "${IDLE_JOBS:-4}") ;;
    esac
    echo "== ScaleOut $part, load $(load)" >&2
    java -Xmx1g -cp "$JAR" dev.shears.bench.ScaleOut "$part" "${args[@]}" --worker-heap "${HEAP:-2g}" \
        --dir "$TMP/$part" > "$TMP/$part.log" 2> "$TMP/$part.err" \
        || { tail -30 "$TMP/$part.err" >&2; cat "$TMP/$part.log" >&2; die "ScaleOut $part failed (log above)"; }
    grep -E '^(ASSIGN|JOB|THROUGHPUT|RATIO|RAN|IDLE)' "$TMP/$part.log" >&2
done

stop_sampling
report scale_out_report.py
