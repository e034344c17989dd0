#!/usr/bin/env bash
# Compaction speed-up, and artifact and checkpoint sizes against sparsity, in one go (issue 7, items 2 and 3):
#
#   jmh    JMH CompactionBenchmark: net.output(x) on a fixed random batch, for LeNet-5 and a VGG-style net
#          (64-128-256 channels), each pruned structurally (L2 over dim 0 of every conv and hidden dense weight,
#          then removeAll) to 50 % and 75 % of its filters, at batch 1 and 256: the pruned network at full shapes
#          ("dense") against Compaction.compact of it; once per thread count (OMP_NUM_THREADS)
#   turns  CompactionSpeedup: the same pairs timed in turns in one JVM (blocks of calls alternating), so that
#          other work on the machine slows both alike; the goal (>= 1.8x at 50 %) is judged on its median ratio
#   sizes  ArtifactSizes: global L1 unstructured pruning at 0.5, 0.8, 0.9, 0.95 on both nets (trained a little
#          first); the published sparse artifact (SparseModel, after compaction, as Publisher writes it) and a
#          job checkpoint (Checkpoints.save) against the dense model.zip and the dense checkpoint
#          (goal: <= (1 - s) + 5 %)
#
# Builds bench/target/benchmarks.jar when missing or older than the sources, then prints a Markdown report and
# writes it to bench/results/compaction.md (with the machine, the date and the command).
#
# Usage: bench/compaction.sh                 (from anywhere)
#   THREADS="1 2"     OpenMP thread counts for jmh and turns (sizes runs with the first)
#   PARTS="jmh turns sizes"   what to run
#   JMH_ARGS="..."    extra JMH options (e.g. "-wi 1 -i 3"; default: CompactionBenchmark's 3 x 1 s warm-up,
#                     5 x 1 s measured, 1 fork)
#   PAIRS=21          alternating pairs per case (turns)
#   TURNS_ARGS="..."  extra CompactionSpeedup options (e.g. "--models lenet5 --batches 1")
#   SIZES_ARGS="..."  extra ArtifactSizes options (e.g. "--models lenet5 --sparsities 0.9")
#   OUT=FILE          where the report goes (default bench/results/compaction.md; "-" for stdout only)
#   KEEP=DIR          keep the raw outputs (JMH JSON, logs) in DIR; python3 bench/compaction_report.py DIR CMD
#                     prints the report again from them
#   REBUILD=1         rebuild the jar even when it is up to date
set -euo pipefail

NAME=compaction
MODULES="prune common trainer bench"
# shellcheck source=bench/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
init "jmh turns sizes" SIZES_ARGS TURNS_ARGS JMH_ARGS PAIRS PARTS THREADS
THREADS="${THREADS:-1 2}"
DATA=/usr/share/datasets/fashion-mnist
export OMP_WAIT_POLICY=PASSIVE

for t in $THREADS; do [[ "$t" =~ ^[1-9][0-9]*$ ]] || die "THREADS must be thread counts >= 1, got '$t'"; done
if has sizes; then
    [ -f "$DATA/train-images-idx3-ubyte.gz" ] || die "no Fashion-MNIST in $DATA (fix: apt-get install -y dataset-fashion-mnist)"
fi

build_jar
start_run
load > "$TMP/load_start"

for t in $THREADS; do
    export OMP_NUM_THREADS="$t"
    CPUS="-XX:ActiveProcessorCount=$t"
    if has jmh; then
        echo "== JMH CompactionBenchmark, OMP_NUM_THREADS=$t, load $(load)" >&2
        java -jar "$JAR" 'dev.shears.bench.CompactionBenchmark' -jvmArgsAppend "$CPUS" \
            -rf json -rff "$TMP/jmh-$t.json" ${JMH_ARGS:-} > "$TMP/jmh-$t.log" 2>&1 \
            || { tail -40 "$TMP/jmh-$t.log" >&2; die "JMH run failed (log above)"; }
        grep -E '^(Benchmark|CompactionBenchmark)' "$TMP/jmh-$t.log" >&2 || true
    fi
    if has turns; then
        echo "== CompactionSpeedup (in turns), OMP_NUM_THREADS=$t, load $(load)" >&2
        java -Xmx2g "$CPUS" -cp "$JAR" dev.shears.bench.CompactionSpeedup --pairs "${PAIRS:-21}" ${TURNS_ARGS:-} \
            > "$TMP/turns-$t.log" 2> "$TMP/turns-$t.err" \
            || { tail -30 "$TMP/turns-$t.err" >&2; die "CompactionSpeedup failed (log above)"; }
        grep '^CASE' "$TMP/turns-$t.log" >&2
    fi
done

if has sizes; then
    t="${THREADS%% *}"
    export OMP_NUM_THREADS="$t"
    echo "== ArtifactSizes, OMP_NUM_THREADS=$t, load $(load)" >&2
    java -Xmx2g "-XX:ActiveProcessorCount=$t" -cp "$JAR" dev.shears.bench.ArtifactSizes --data "$DATA" ${SIZES_ARGS:-} \
        > "$TMP/sizes.log" 2> "$TMP/sizes.err" \
        || { tail -30 "$TMP/sizes.err" >&2; die "ArtifactSizes failed (log above)"; }
    grep -E '^(DENSE|SIZE)' "$TMP/sizes.log" >&2
fi

load > "$TMP/load_end"
stop_sampling
report compaction_report.py
