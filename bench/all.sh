#!/usr/bin/env bash
# Every performance figure of the README in one command (issue 7), one harness after the other so that they do not
# share the CPUs:
#
#   bench/side-by-side.sh N     Shears against PyTorch: the whole LeNet-5 job, training throughput in turns, global
#                               masks on LeNet-5 and at 84M parameters, LeNet-5 compaction and artifact sizes
#   bench/compaction.sh         compaction speed-up (LeNet-5 and a VGG-style net, 50 % and 75 % of the filters) and
#                               artifact and checkpoint sizes against sparsity
#   bench/pipeline-overhead.sh  PruneStep latency through Kafka, Kafka's transactional path alone, and how many
#                               jobs one scheduler drives
#
# Each harness writes its report to bench/results/ and its block of README.md's Performance section (with the
# machine, the date and the command), so the README shows what was measured last, never figures typed by hand.
# About 35 minutes on a 2-core machine; needs python3-torch and dataset-fashion-mnist (./shears demo installs both,
# or: apt-get install -y python3-torch dataset-fashion-mnist).
#
# Usage: bench/all.sh [N]      N threads for the side-by-side comparison (default 1)
#   ONLY="side-by-side compaction pipeline"   which harnesses to run (default: all three)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ONLY="${ONLY:-side-by-side compaction pipeline}"
THREADS="${1:-1}"
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || { echo "all.sh: N must be a thread count >= 1, got '$THREADS'" >&2; exit 1; }

run() {
    local name="$1"; shift
    [[ " $ONLY " == *" $name "* ]] || return 0
    echo "==== $name: $* ($(date '+%H:%M:%S'), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    local t0=$SECONDS
    "$@"
    echo "==== $name done in $((SECONDS - t0)) s" >&2
}

run side-by-side "$ROOT/bench/side-by-side.sh" "$THREADS"
run compaction "$ROOT/bench/compaction.sh"
run pipeline "$ROOT/bench/pipeline-overhead.sh"
