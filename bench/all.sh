#!/usr/bin/env bash
# Every performance figure of the README in one command (issue 7), one harness after the other so that they do not
# share the CPUs:
#
#   bench/side-by-side.sh CPUS  Shears against PyTorch, both pinned to CPUS: the whole LeNet-5 job (5 alternated runs
#                               each), training, evaluation and checkpoints in turns, global masks on LeNet-5 and at
#                               84M parameters
#   bench/profile.sh CPUS       where the job's CPU time goes (async-profiler), pinned the same way
#   bench/resnet-vs-torch.sh CPUS  ResNet-20 against PyTorch in turns: training dense and masked, evaluation,
#                               checkpoints, pinned the same way
#   bench/mobilenet-vs-torch.sh CPUS  the same for MobileNetV2
#   bench/compaction.sh         compaction speed-up (LeNet-5 and a VGG-style net, 50 % and 75 % of the filters) and
#                               artifact and checkpoint sizes against sparsity
#   bench/pipeline-overhead.sh  PruneStep latency through Kafka, Kafka's transactional path alone, and how many
#                               jobs one scheduler drives
#
# Each harness writes its report to bench/results/ and its block of README.md's Performance section (with the
# machine, the date and the command), so the README shows what was measured last, never figures typed by hand.
# About an hour and a quarter on a 2-core machine; side-by-side.sh installs what it needs (python3-torch,
# libopenblas0-pthread, dataset-fashion-mnist) when missing. Run it on a quiet machine: the reports print the load average.
#
# Usage: bench/all.sh [CPUS]   the CPUs (a taskset list) the side-by-side comparison and the profile are pinned to
#                              (default 0: one core)
#   ONLY="side-by-side profile resnet mobilenet compaction pipeline"   which harnesses to run (default: all six)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ONLY="${ONLY:-side-by-side profile resnet mobilenet compaction pipeline}"
CPUS="${1:-0}"
taskset -c "$CPUS" true 2>/dev/null || { echo "all.sh: CPUS must be a CPU list taskset accepts (0, 0-1, ...), got '$CPUS'" >&2; exit 1; }

run() {
    local name="$1"; shift
    [[ " $ONLY " == *" $name "* ]] || return 0
    echo "==== $name: $* ($(date '+%H:%M:%S'), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    local t0=$SECONDS
    "$@"
    echo "==== $name done in $((SECONDS - t0)) s" >&2
}

run side-by-side "$ROOT/bench/side-by-side.sh" "$CPUS"
run profile "$ROOT/bench/profile.sh" "$CPUS"
run resnet "$ROOT/bench/resnet-vs-torch.sh" "$CPUS"
run mobilenet "$ROOT/bench/mobilenet-vs-torch.sh" "$CPUS"
run compaction "$ROOT/bench/compaction.sh"
run pipeline "$ROOT/bench/pipeline-overhead.sh"
