#!/usr/bin/env bash
# Where the whole LeNet-5 job's CPU time goes: ./shears train, pinned like bench/side-by-side.sh, under
# async-profiler (CPU time sampled every INTERVAL, every thread, Java and native frames), then the breakdown by
# thread, phase and training operation (bench/profile_report.py). async-profiler comes from Maven Central
# (tools.profiler:async-profiler:3.0, classifier linux-x64) into bench/target/profiler. The report goes to
# bench/results/profile.md and README.md's profile block; the stacks stay in OUT for a closer look.
#
# Usage: bench/profile.sh [CPUS]          CPUS: a taskset list, default 0
#   INTERVAL=1ms    sampling interval of CPU time
#   EVENT=cpu       perf_events CPU clock; itimer where perf_events are not allowed
#   OUT=DIR         where the collapsed stacks and the job's outputs go (default bench/target/profile)
#   QUICK=1         a short job (1 dense epoch, 2 steps of 50 iterations)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CPUS="${1:-${CPUS:-0}}"
INTERVAL="${INTERVAL:-1ms}"
EVENT="${EVENT:-cpu}"
OUT="${OUT:-$ROOT/bench/target/profile}"
RECIPE="$ROOT/trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml"
AP_VERSION=3.0
AP_DIR="$ROOT/bench/target/profiler"
AP_LIB="$AP_DIR/linux-x64/libasyncProfiler.so"

die() { echo "profile: $*" >&2; exit 1; }
THREADS="$(taskset -c "$CPUS" nproc 2>/dev/null)" || die "CPUS='$CPUS' is not a CPU list taskset accepts"

if [ ! -f "$AP_LIB" ]; then
    echo "== fetching async-profiler $AP_VERSION (Maven Central: tools.profiler:async-profiler:$AP_VERSION:linux-x64)" >&2
    mkdir -p "$AP_DIR"
    (cd "$ROOT" && mvn -B -q -Dstyle.color=never dependency:copy \
        -Dartifact="tools.profiler:async-profiler:$AP_VERSION:jar:linux-x64" -DoutputDirectory="$AP_DIR") >&2 \
        || die "could not fetch async-profiler from Maven Central"
    (cd "$AP_DIR" && unzip -q -o "async-profiler-$AP_VERSION-linux-x64.jar" 'linux-x64/*') || die "unzip failed"
fi

mkdir -p "$OUT"
rm -rf "$OUT/job"
if [ "${QUICK:-0}" = 1 ]; then
    sed -e 's/^\(  denseEpochs:\).*/\1 1/' -e 's/^\(  steps:\).*/\1 2/' -e 's/^\(  iterationsPerStep:\).*/\1 50/' \
        "$RECIPE" > "$OUT/quick.yaml"
    RECIPE="$OUT/quick.yaml"
fi
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS" OMP_WAIT_POLICY=PASSIVE
"$ROOT/shears" train --help > /dev/null || die "./shears does not start"

run() {
    SHEARS_JAVA_EXTRA_OPTS="-XX:ActiveProcessorCount=$THREADS -agentpath:$AP_LIB=start,event=$1,interval=$INTERVAL,threads,$2,file=$3" \
        taskset -c "$CPUS" "$ROOT/shears" train --recipe "$RECIPE" --out "$OUT/job" --metrics-port -1 \
        > "$OUT/job.log" 2> "$OUT/job.err"
}
START="$(date '+%Y-%m-%d %H:%M:%S %z')"
LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== ./shears train under async-profiler (event $EVENT, every $INTERVAL), taskset -c $CPUS, load $LOAD0" >&2
if ! run "$EVENT" collapsed "$OUT/stacks.collapsed" || grep -q "perf_event" "$OUT/job.err"; then
    echo "== perf_events refused: profiling with itimer instead" >&2
    EVENT=itimer
    rm -rf "$OUT/job"
    run itimer collapsed "$OUT/stacks.collapsed" || { tail -20 "$OUT/job.err" >&2; die "the job failed"; }
fi
LOAD1="$(cut -d' ' -f1-3 /proc/loadavg)"
{
    echo "# Where the job's CPU time goes"
    echo
    echo "- command: \`bench/profile.sh $CPUS\` (async-profiler $AP_VERSION, event $EVENT every $INTERVAL, all threads)"
    echo "- date: $START; load average (1/5/15 min) $LOAD0 at the start, $LOAD1 at the end"
    echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc --all) CPUs; taskset -c $CPUS, $THREADS thread(s); $(java -version 2>&1 | head -1)"
    echo
    echo '```'
    /usr/bin/python3 "$ROOT/bench/profile_report.py" "$OUT/stacks.collapsed" "$OUT/job/summary.json" "${INTERVAL%ms}"
    echo '```'
} > "$OUT/report.md"
cat "$OUT/report.md"
if [ "${QUICK:-0}" != 1 ]; then
    mkdir -p "$ROOT/bench/results"
    cp "$OUT/report.md" "$ROOT/bench/results/profile.md"
    /usr/bin/python3 "$ROOT/bench/readme_results.py" profile "$ROOT/bench/results/profile.md"
fi
