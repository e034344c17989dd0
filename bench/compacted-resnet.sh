#!/usr/bin/env bash
# The compacted ResNet against the dense one, on one pinned thread (issue 13's benchmark): ResNet-20 (width 16) for
# Fashion-MNIST with every dependency group pruned to half its channels and compacted (ResNetCompactionSpeedup),
# against the same graph at full shapes, timed in turns at batch 1 and 64; then the same architecture in PyTorch
# (bench/torch_resnet.py, Debian's python3-torch), dense against half the channels, as a reference. Goal: the
# compacted ResNet >= 2x faster than the dense one at both batch sizes. DL4J runs twice: with its own oneDNN
# convolution helper (what a published model gets in a plain DL4J program) and with Shears' (OneDnnConvolution,
# primitives made once per layer and shape: what a job trains and evaluates on).
#
# Both run pinned to one core (taskset -c CPU), OMP_NUM_THREADS=1, OMP_WAIT_POLICY=PASSIVE; the JVM with
# -XX:ActiveProcessorCount=1 and torch with torch.set_num_threads(1). Run it when the machine is quiet.
#
# Usage: bench/compacted-resnet.sh
#   CPU=0               the core to pin to
#   ARGS="..."          options for both sides (--depth 20 --width 16 --keep 0.5 --batches 1,64 --pairs 21 --block-ms 200)
#   QUICK=1             a smoke run (2 pairs of 20 ms blocks): figures not to be reported
#   REBUILD=1           rebuild bench/target/benchmarks.jar even when present
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/bench/target/benchmarks.jar"
CPU="${CPU:-0}"
ARGS="${ARGS:-}"
if [ -n "${QUICK:-}" ]; then ARGS="$ARGS --pairs 2 --block-ms 20"; fi

die() { echo "compacted-resnet: $*" >&2; exit 1; }
command -v java >/dev/null || die "no java on PATH (fix: install a JDK 17)"
command -v taskset >/dev/null || die "no taskset on PATH (fix: apt-get install util-linux)"
/usr/bin/python3 -c "import torch" 2>/dev/null || die "no PyTorch for /usr/bin/python3 (fix: apt-get install python3-torch)"
if [ -n "${REBUILD:-}" ] || [ ! -f "$JAR" ] || [ -n "$(find "$ROOT"/{bench,trainer,prune,common}/src -newer "$JAR" -name '*.java' -print -quit)" ]; then
    echo "== building $JAR (mvn -pl bench -am package)" >&2
    (cd "$ROOT" && mvn -B -q -Dstyle.color=never -pl bench -am package -DskipTests) >&2 || die "build failed"
fi

export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
for path in dl4j shears fused; do
    echo "== DL4J, convolutions on the $path path: dense vs compacted, one thread on core $CPU"
    # shellcheck disable=SC2086
    taskset -c "$CPU" java -XX:ActiveProcessorCount=1 -Xmx2g -cp "$JAR" dev.shears.bench.ResNetCompactionSpeedup \
        --path "$path" $ARGS
done
echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'): dense vs half the channels, one thread on core $CPU"
# shellcheck disable=SC2086
taskset -c "$CPU" /usr/bin/python3 "$ROOT/bench/torch_resnet.py" $ARGS
