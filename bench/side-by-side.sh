#!/usr/bin/env bash
# Shears against PyTorch on the whole LeNet-5 / Fashion-MNIST gradual-pruning job, both on the same cores with the
# same thread counts and the same work, in one invocation:
#
#   job     ./shears train --recipe trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml (3 dense epochs, cubic
#           schedule to 90 % global L1 in 10 steps of 469 fine-tune iterations, batch 64, Nesterov SGD 0.01/0.9,
#           the test set evaluated after every step, a checkpoint after every step) against bench/torch_lenet5.py,
#           the same job in PyTorch 1.13 (Debian's python3-torch) on Debian's OpenBLAS: REPS runs of each, alternated
#           (S P, P S, S P, ...), each process under /usr/bin/time -v (wall, user + system CPU, peak RSS)
#   turns   the training loops, the evaluation and the checkpoint measured in turns (bench/interleave.py: both
#           processes alive, alternating blocks, so that other work on the machine slows both alike): samples per
#           second and per CPU-second (CPU time read inside each process), dense and masked (90 %)
#   mask    global L1 mask computation on LeNet-5's weights, warm, median of many (SideBySide mask /
#           torch_lenet5.py --no-job), and at 84M parameters (mask84: bench/mask-vs-torch.sh)
#
# Fairness: every process runs under `taskset -c CPUS`; THREADS = the number of CPUs in that list goes to
# OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS (OMP_WAIT_POLICY=PASSIVE) for both, to
# torch.set_num_threads, and to the JVMs as -XX:ActiveProcessorCount. PyTorch runs on OpenBLAS: Debian's python3-torch
# links libblas.so.3, which Debian's alternatives point at the reference BLAS unless an optimized one is installed;
# this script installs libopenblas0-pthread when it is missing and puts its directory first on PyTorch's
# LD_LIBRARY_PATH (the machine's alternatives are left as they are), then records the libraries the process mapped
# (/proc/<pid>/maps) and torch.__config__.show(). Nothing else should run meanwhile: the report prints the load
# average before and after every part.
#
# Usage: bench/side-by-side.sh [CPUS]          CPUS: a taskset list, default 0 (one core); CPUS=... works too
#   REPS=5                 whole-job runs of each side (at least 5 for a reported figure)
#   PARTS="job turns mask mask84"   what to run (default: all)
#   PAIRS=9 BLOCK=150      pairs and iterations per block of the training phases in turns
#   SHEARS_JAVA_OPTS=...   JVM options replacing the launcher's defaults for ./shears train (-XX:ActiveProcessorCount
#                          is added through SHEARS_JAVA_EXTRA_OPTS either way)
#   QUICK=1                a short job (1 dense epoch, 2 steps of 50 iterations), 1 run each, to try the script;
#                          its figures are not the job's and the README is left alone
#   KEEP=DIR               keep the runs' outputs (models, checkpoints, logs) in DIR
#   REBUILD=1              rebuild bench/target/benchmarks.jar even when present
set -euo pipefail

NAME=side-by-side
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"   # ROOT, JAR, die, has, load, need_torch (TORCH_PY, OPENBLAS_DIR)
CPUS="${1:-${CPUS:-0}}"
PARTS="${PARTS:-job turns mask mask84}"
REPS="${REPS:-5}"
RECIPE="$ROOT/trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml"
DATA="$FASHION_MNIST"

THREADS="$(taskset -c "$CPUS" nproc 2>/dev/null)" || die "CPUS='$CPUS' is not a CPU list taskset accepts (e.g. 0, 0-1, 2,3)"
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "REPS must be >= 1, got '$REPS'"

need_torch
command -v java >/dev/null || die "no java on PATH (fix: install a JDK 17)"

if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$JAR" ] || [ -n "$(find "$ROOT"/{prune,common,trainer,bench}/src/main \
        "$ROOT"/{prune,common,trainer,bench}/pom.xml -newer "$JAR" -print -quit 2>/dev/null)" ]; then
    echo "== building bench/target/benchmarks.jar (mvn -pl trainer,bench -am package)" >&2
    (cd "$ROOT" && mvn -B -q -Dstyle.color=never -pl trainer,bench -am package -DskipTests) >&2 || die "build failed"
fi
"$ROOT/shears" train --help > /dev/null || die "./shears does not start (its build log: target/shears-build.log)"

if [ -n "${KEEP:-}" ]; then
    TMP="$KEEP"; mkdir -p "$TMP"
else
    TMP="$(mktemp -d "${TMPDIR:-/tmp}/side-by-side.XXXXXX")"
    trap 'rm -rf "$TMP"' EXIT
fi
START="$(date '+%Y-%m-%d %H:%M:%S %z')"
echo "$START" > "$TMP/start"
: > "$TMP/loads"
note_load() { echo "$1 $(load)" >> "$TMP/loads"; }

export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS" OMP_WAIT_POLICY=PASSIVE
export SHEARS_JAVA_EXTRA_OPTS="${SHEARS_JAVA_EXTRA_OPTS:+$SHEARS_JAVA_EXTRA_OPTS }-XX:ActiveProcessorCount=$THREADS"
TORCH_LD="$OPENBLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
JAVA_BENCH=(java -Xmx2g "-XX:ActiveProcessorCount=$THREADS" -cp "$JAR" dev.shears.bench.SideBySide)
PIN=(taskset -c "$CPUS")
{
    echo "cpus=$CPUS"
    echo "threads=$THREADS"
    echo "shears_java_opts=${SHEARS_JAVA_OPTS:-launcher defaults for train} $SHEARS_JAVA_EXTRA_OPTS"
    echo "torch_ld_library_path=$TORCH_LD"
    echo "blas_alternative=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo none)"
    echo "openblas_package=$(dpkg-query -W -f '${Package} ${Version}' libopenblas0-pthread 2>/dev/null || echo none)"
    echo "torch_package=$(dpkg-query -W -f '${Package} ${Version}' python3-torch 2>/dev/null || echo none)"
} > "$TMP/setup"

TORCH_JOB_ARGS=()
if [ "${QUICK:-0}" = 1 ]; then
    echo "== QUICK=1: a short job, not the recipe's, one run each" >&2
    sed -e 's/^\(  denseEpochs:\).*/\1 1/' -e 's/^\(  steps:\).*/\1 2/' -e 's/^\(  iterationsPerStep:\).*/\1 50/' \
        "$RECIPE" > "$TMP/quick.yaml"
    RECIPE="$TMP/quick.yaml"
    TORCH_JOB_ARGS=(--dense-epochs 1 --steps 2 --iters 50)
    REPS=1
fi

# One whole job under /usr/bin/time -v, pinned: $TMP/NAME.{log,err,timev}.
timed() {
    local name="$1"; shift
    "${PIN[@]}" /usr/bin/time -v -o "$TMP/$name.timev" "$@" > "$TMP/$name.log" 2> "$TMP/$name.err" \
        || { tail -30 "$TMP/$name.err" >&2; die "$name failed (log above)"; }
    note_load "$name"
}
shears_job() {
    timed "shears_job_$1" "$ROOT/shears" train --recipe "$RECIPE" --out "$TMP/shears-job-$1" --metrics-port -1
}
torch_job() {
    timed "torch_job_$1" env LD_LIBRARY_PATH="$TORCH_LD" "$TORCH_PY" "$ROOT/bench/torch_lenet5.py" \
        --threads "$THREADS" --no-mask --out "$TMP/torch-job-$1" --config "$TMP/torch-config.txt" "${TORCH_JOB_ARGS[@]}"
}

if has job; then
    for i in $(seq 1 "$REPS"); do
        if ((i % 2)); then order=(shears torch); else order=(torch shears); fi
        for side in "${order[@]}"; do
            echo "== job $i/$REPS: $side (taskset -c $CPUS, $THREADS thread(s)), load $(load)" >&2
            "${side}_job" "$i"
        done
    done
fi
if has turns; then
    echo "== in turns: bench/interleave.py (pairs ${PAIRS:-9}, blocks of ${BLOCK:-150}), load $(load)" >&2
    "${PIN[@]}" "$TORCH_PY" "$ROOT/bench/interleave.py" --threads "$THREADS" --jar "$JAR" --recipe "$RECIPE" \
        --data "$DATA" --openblas "$OPENBLAS_DIR" --pairs "${PAIRS:-9}" --block "${BLOCK:-150}" \
        > "$TMP/turns.log" 2> "$TMP/turns.err" || { tail -30 "$TMP/turns.err" >&2; die "interleave.py failed"; }
    note_load turns
    grep -E '^ *(dense|masked|eval|checkpoint):' "$TMP/turns.err" >&2 || true
fi
if has mask; then
    echo "== mask on LeNet-5: Shears (SideBySide mask), load $(load)" >&2
    "${PIN[@]}" "${JAVA_BENCH[@]}" mask --recipe "$RECIPE" > "$TMP/shears_mask.log" 2> "$TMP/shears_mask.err" \
        || die "SideBySide mask failed"
    note_load shears_mask
    echo "== mask on LeNet-5: PyTorch (torch_lenet5.py --no-job), load $(load)" >&2
    LD_LIBRARY_PATH="$TORCH_LD" "${PIN[@]}" "$TORCH_PY" "$ROOT/bench/torch_lenet5.py" --threads "$THREADS" --no-job \
        > "$TMP/torch_mask.log" 2> "$TMP/torch_mask.err" || die "torch_lenet5.py --no-job failed"
    note_load torch_mask
fi
if has mask84; then
    echo "== mask at 84M parameters: bench/mask-vs-torch.sh (THREADS=$THREADS, pinned), load $(load)" >&2
    LD_LIBRARY_PATH="$TORCH_LD" THREADS="$THREADS" "${PIN[@]}" "$ROOT/bench/mask-vs-torch.sh" \
        > "$TMP/mask84.log" 2> "$TMP/mask84.err" || { tail -30 "$TMP/mask84.err" >&2; die "mask-vs-torch.sh failed"; }
    note_load mask84
fi

"$TORCH_PY" "$ROOT/bench/side_by_side_report.py" "$TMP" "$REPS" "$PARTS" "${QUICK:-0}" > "$TMP/report.txt" \
    || die "the report failed"
cat "$TMP/report.txt"
# A real run (not QUICK) becomes the README's side-by-side block, with its machine, date, pinning and command.
if [ "${QUICK:-0}" != 1 ]; then
    REPORT="$ROOT/bench/results/side-by-side.md"
    mkdir -p "$ROOT/bench/results"
    {
        echo "# Side by side with PyTorch"
        echo
        echo "- command: \`bench/side-by-side.sh $CPUS\` with PARTS=\"$PARTS\" REPS=$REPS"
        echo
        echo '```'
        cat "$TMP/report.txt"
        echo '```'
    } > "$REPORT"
    "$TORCH_PY" "$ROOT/bench/readme_results.py" side-by-side "$REPORT"
fi
