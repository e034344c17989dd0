#!/usr/bin/env bash
# Shears vs PyTorch on the whole LeNet-5 / Fashion-MNIST gradual-pruning job, in one invocation:
#
#   job        ./shears train --recipe trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml (3 dense
#              epochs, cubic schedule to 90 % global L1 in 10 steps of 469 fine-tune iterations, batch 64,
#              Nesterov SGD 0.01/0.9) against bench/torch_lenet5.py, the same job in PyTorch 1.13
#              (Debian's python3-torch): dense and masked fine-tuning throughput, whole-job wall time
#              (each process timed from the outside), dense and final test accuracy
#   throughput the same two training loops measured in turns (bench/interleave.py: both processes alive,
#              alternating blocks of iterations, so that other work on the machine slows both alike):
#              dense and masked (90 %) fine-tuning samples/s, median of the per-pair ratios
#   mask       global L1 mask computation on LeNet-5's weights, warm, median of many
#              (SideBySide mask / torch_lenet5.py --no-job), and at 84M parameters (bench/mask-vs-torch.sh)
#
# (Compaction speed-ups and artifact sizes, where PyTorch's pruning has no counterpart, are bench/compaction.sh's;
# bench/all.sh runs this script, that one and bench/pipeline-overhead.sh in one go.)
#
# then prints the tables with the ratios Shears/PyTorch and the goals. Both sides get the same thread
# count: OMP_NUM_THREADS=N and OMP_WAIT_POLICY=PASSIVE in both environments, torch.set_num_threads(N);
# the JVMs of the micro-benchmarks also get -XX:ActiveProcessorCount=N (the training job runs as a user
# runs it, through ./shears).
#
# Usage: bench/side-by-side.sh [N]          (N threads, default 1; THREADS=N works too)
#   MASK84=run|skip|FILE  the 84M mask comparison: run bench/mask-vs-torch.sh (default), skip it, or
#                         reuse the printed output of an earlier run saved in FILE
#   MASK84_JMH_ARGS="..." JMH options for that run (default: MaskBenchmark's own, 3 warm-up and 5 measured
#                         iterations); MASK84_TORCH_ARGS likewise (default: torch_masks.py's 1 + 3 repetitions)
#   PARTS="job throughput mask mask84"  what to run (default: all)
#   PAIRS=11 BLOCK=150    pairs and iterations per block of the throughput part
#   QUICK=1               a short job (1 dense epoch, 2 steps of 50 iterations) to try the script out;
#                         its figures are not the job's
#   KEEP=DIR              keep the runs' outputs (models, checkpoints, logs) in DIR
#   REBUILD=1             rebuild bench/target/benchmarks.jar and the trainer even when present
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/bench/target/benchmarks.jar"
TORCH_PY=/usr/bin/python3
THREADS="${1:-${THREADS:-1}}"
PARTS="${PARTS:-job throughput mask mask84}"
RECIPE="$ROOT/trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml"
DATA=/usr/share/datasets/fashion-mnist
export OMP_NUM_THREADS="$THREADS"
export OMP_WAIT_POLICY=PASSIVE

die() { echo "side-by-side: $*" >&2; exit 1; }
has() { [[ " $PARTS " == *" $1 "* ]]; }

[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "N must be a thread count >= 1, got '$THREADS'"
[ -x "$TORCH_PY" ] || die "$TORCH_PY not found (fix: apt-get install -y python3-torch)"
"$TORCH_PY" -c 'import torch' 2>/dev/null \
    || die "$TORCH_PY has no torch module (fix: apt-get install -y python3-torch)"
command -v java >/dev/null || die "no java on PATH (fix: install a JDK 17)"
[ -f "$DATA/train-images-idx3-ubyte.gz" ] || die "no Fashion-MNIST in $DATA (fix: apt-get install -y dataset-fashion-mnist)"

if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$JAR" ] || [ -n "$(find "$ROOT"/{prune,common,trainer,bench}/src/main \
        "$ROOT"/{prune,common,trainer,bench}/pom.xml -newer "$JAR" -print -quit 2>/dev/null)" ]; then
    echo "== building bench/target/benchmarks.jar and the trainer (mvn -pl trainer,bench -am package)" >&2
    (cd "$ROOT" && mvn -B -q -Dstyle.color=never -pl trainer,bench -am package -DskipTests) >&2 || die "build failed"
fi

if [ -n "${KEEP:-}" ]; then
    TMP="$KEEP"; mkdir -p "$TMP"
else
    TMP="$(mktemp -d "${TMPDIR:-/tmp}/side-by-side.XXXXXX")"
    trap 'rm -rf "$TMP"' EXIT
fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
JAVA_BENCH=(java -Xmx2g "-XX:ActiveProcessorCount=$THREADS" -cp "$JAR" dev.shears.bench.SideBySide)
START="$(date '+%Y-%m-%d %H:%M:%S %z')"
echo "$START" > "$TMP/start"
: > "$TMP/loads"

TORCH_JOB_ARGS=()
if [ "${QUICK:-0}" = 1 ]; then
    echo "== QUICK=1: a short job, not the recipe's" >&2
    sed -e 's/^\(  denseEpochs:\).*/\1 1/' -e 's/^\(  steps:\).*/\1 2/' -e 's/^\(  iterationsPerStep:\).*/\1 50/' \
        "$RECIPE" > "$TMP/quick.yaml"
    RECIPE="$TMP/quick.yaml"
    TORCH_JOB_ARGS=(--dense-epochs 1 --steps 2 --iters 50)
fi

# Runs a command with `time`; its wall, user and system seconds go to $TMP/$1.time.
timed() {
    local name="$1"; shift
    local TIMEFORMAT='%R %U %S'
    { time "$@" > "$TMP/$name.log" 2> "$TMP/$name.err"; } 2> "$TMP/$name.time" \
        || { tail -30 "$TMP/$name.err" >&2; die "$name failed (log above)"; }
    echo "$name $(load)" >> "$TMP/loads"
}

if has job; then
    echo "== job: Shears (./shears train, OMP_NUM_THREADS=$THREADS), load $(load)" >&2
    timed shears_job "$ROOT/shears" train --recipe "$RECIPE" --out "$TMP/shears-job" --metrics-port -1
    grep -E '^(step|[0-9]+ )' "$TMP/shears_job.log" >&2 || true
    echo "== job: PyTorch (bench/torch_lenet5.py --threads $THREADS), load $(load)" >&2
    timed torch_job "$TORCH_PY" "$ROOT/bench/torch_lenet5.py" --threads "$THREADS" --no-mask \
        --out "$TMP/torch-job" "${TORCH_JOB_ARGS[@]}"
    cat "$TMP/torch_job.err" >&2
fi
if has throughput; then
    echo "== throughput in turns: bench/interleave.py (pairs ${PAIRS:-11}, blocks of ${BLOCK:-150}), load $(load)" >&2
    timed throughput "$TORCH_PY" "$ROOT/bench/interleave.py" --threads "$THREADS" --jar "$JAR" --recipe "$RECIPE" \
        --data "$DATA" --pairs "${PAIRS:-11}" --block "${BLOCK:-150}"
    cat "$TMP/throughput.err" | grep -E '^ *(dense|masked):' >&2 || true
fi
if has mask; then
    echo "== mask on LeNet-5: Shears (SideBySide mask), load $(load)" >&2
    timed shears_mask "${JAVA_BENCH[@]}" mask --recipe "$RECIPE"
    echo "== mask on LeNet-5: PyTorch (torch_lenet5.py --no-job), load $(load)" >&2
    timed torch_mask "$TORCH_PY" "$ROOT/bench/torch_lenet5.py" --threads "$THREADS" --no-job
fi
if has mask84; then
    case "${MASK84:-run}" in
        skip) ;;
        run)
            echo "== mask at 84M parameters: bench/mask-vs-torch.sh (THREADS=$THREADS), load $(load)" >&2
            THREADS="$THREADS" JMH_ARGS="${MASK84_JMH_ARGS:-}" TORCH_ARGS="${MASK84_TORCH_ARGS:-}" \
                "$ROOT/bench/mask-vs-torch.sh" > "$TMP/mask84.log" 2> "$TMP/mask84.err" \
                || { tail -30 "$TMP/mask84.err" >&2; die "mask-vs-torch.sh failed"; }
            echo "mask84 $(load)" >> "$TMP/loads" ;;
        *)
            [ -f "$MASK84" ] || die "MASK84=$MASK84: no such file (run, skip, or a saved mask-vs-torch.sh output)"
            cp "$MASK84" "$TMP/mask84.log" ;;
    esac
fi
"$TORCH_PY" "$ROOT/bench/side_by_side_report.py" "$TMP" "$THREADS" "$START" "$PARTS" "${QUICK:-0}" "${MASK84:-run}" \
    > "$TMP/report.txt" || die "the report failed"
cat "$TMP/report.txt"
REPORT="$TMP/report.md"
{
    echo "# Side by side with PyTorch"
    echo
    echo "- command: \`bench/side-by-side.sh $THREADS\` with PARTS=\"$PARTS\""
    echo
    echo '```'
    cat "$TMP/report.txt"
    echo '```'
} > "$REPORT"
# A real run (not QUICK) becomes the README's side-by-side block, with its machine, date and command.
if [ "${QUICK:-0}" != 1 ]; then
    mkdir -p "$ROOT/bench/results"
    cp "$REPORT" "$ROOT/bench/results/side-by-side.md"
    python3 "$ROOT/bench/readme_results.py" side-by-side "$ROOT/bench/results/side-by-side.md"
fi
