#!/usr/bin/env bash
# ResNet-20 on Fashion-MNIST, Shears against PyTorch 1.13 on OpenBLAS, in turns (bench/interleave.py --model resnet20):
# the recipe resnet20-fmnist-90's network (width 16, batch 128, Nesterov SGD 0.05/0.9, weight decay 5e-4) trained by
# the job's own loop (SideBySide serve: the recipe's model, Batches, MaskedTraining, TrainingPath) and by
# bench/torch_resnet.py --serve (the same blocks, initialisation scheme, optimizer and batches), both processes alive and
# computing in turns, the order flipping every pair: dense training, training at 90 % global L1 (masked), the
# evaluation of the 10,000 test images and one checkpoint. Samples per second and per CPU-second, CPU read inside each
# process (the JVM's JIT and GC included); the ratio is the median of the per-pair ratios.
#
# Fairness as bench/side-by-side.sh: every process under `taskset -c CPUS`, THREADS = the CPUs in that list for
# OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, torch.set_num_threads and -XX:ActiveProcessorCount; PyTorch on
# Debian's OpenBLAS (installed when missing). Builds bench/target/benchmarks.jar when stale, samples the load average
# every 5 s, prints a Markdown report and writes it to bench/results/resnet-vs-torch.md and README.md's block. About
# 6 minutes on one core.
#
# Run as bench/mobilenet-vs-torch.sh (a link to this file) it does the same for MobileNetV2 (interleave.py --model
# mobilenetv2: the recipe mobilenetv2-fmnist-structured's network, width 0.35, batch 128, Nesterov SGD 0.05/0.9, weight
# decay 1e-4; PyTorch's side torch_resnet.py --model mobilenetv2), the masked phase at the recipe's 50 % of each
# convolution's channels, in blocks of 5 iterations after 20, into bench/results/mobilenet-vs-torch.md. About 12
# minutes on one core.
#
# Usage: bench/resnet-vs-torch.sh [CPUS]       CPUS: a taskset list, default 0
#        bench/mobilenet-vs-torch.sh [CPUS]
#   PAIRS=9             pairs of training blocks per phase (after the warm-up)
#   EVAL_PAIRS=5        pairs of evaluations
#   CHECKPOINT_PAIRS=7  pairs of checkpoints
#   OUT=FILE            where the report goes (default bench/results/NAME.md; "-" for stdout only)
#   KEEP=DIR            keep the raw outputs in DIR
#   REBUILD=1           rebuild the jar even when it is up to date
set -euo pipefail

NAME="$(basename "${BASH_SOURCE[0]}" .sh)" # resnet-vs-torch, or mobilenet-vs-torch (the link)
case "$NAME" in
    resnet-vs-torch) MODEL=resnet20 TITLE=ResNet-20 ;;
    mobilenet-vs-torch) MODEL=mobilenetv2 TITLE=MobileNetV2 ;;
    *) echo "$NAME: run as bench/resnet-vs-torch.sh or bench/mobilenet-vs-torch.sh" >&2; exit 1 ;;
esac
MODULES="prune common trainer bench"
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
CPUS="${1:-${CPUS:-0}}"
init "turns" CPUS PAIRS EVAL_PAIRS CHECKPOINT_PAIRS
THREADS="$(taskset -c "$CPUS" nproc 2>/dev/null)" || die "CPUS='$CPUS' is not a CPU list taskset accepts (e.g. 0, 0-1)"
need_torch
build_jar
start_run
{
    echo "model=$MODEL"
    echo "cpus=$CPUS"
    echo "threads=$THREADS"
    echo "openblas_package=$(dpkg-query -W -f '${Package} ${Version}' libopenblas0-pthread 2>/dev/null || echo none)"
    echo "torch_package=$(dpkg-query -W -f '${Package} ${Version}' python3-torch 2>/dev/null || echo none)"
} > "$TMP/setup"

echo "== $TITLE in turns, taskset -c $CPUS, $THREADS thread(s), load $(load)" >&2
OMP_NUM_THREADS="$THREADS" taskset -c "$CPUS" "$TORCH_PY" "$ROOT/bench/interleave.py" --model "$MODEL" \
    --threads "$THREADS" --jar "$JAR" --openblas "$OPENBLAS_DIR" --data "$FASHION_MNIST" --pairs "${PAIRS:-9}" \
    --eval-pairs "${EVAL_PAIRS:-5}" --checkpoint-pairs "${CHECKPOINT_PAIRS:-7}" > "$TMP/turns.log" 2> "$TMP/turns.err" \
    || { tail -30 "$TMP/turns.err" >&2; die "interleave.py failed (its output above)"; }
grep -v '^RESULT' "$TMP/turns.err" >&2 || true

stop_sampling
report resnet_report.py
