#!/usr/bin/env bash
# One recipe through the whole pipeline on this machine — a KRaft broker, the scheduler and 2 workers
# (./shears up) — with one worker SIGKILLed in the middle of a pruning step: the job must carry on on the other
# worker (JobResumed from the last checkpoint) and end published. For issue 13's full runs:
#
#   bench/killed-worker-run.sh trainer/src/main/resources/recipes/resnet20-fmnist-structured.yaml
#   bench/killed-worker-run.sh trainer/src/main/resources/recipes/mobilenetv2-fmnist-structured.yaml
#   bench/killed-worker-run.sh trainer/src/main/resources/recipes/resnet20-fmnist-90.yaml
#
# Waits for the job to be in step KILL_STEP (default 2) with at least a third of it done, kills the worker that runs
# it (kill -9 of the pid ./shears up printed for it), follows the job to its end and prints its table (steps,
# decisions, the published model, FLOPs / parameters / latency dense against published) and the wall time.
# Everything goes to DIR (default runs/killed-worker/<job>): up.log, status.txt, the work directory.
#
# Usage: bench/killed-worker-run.sh RECIPE
#   KILL_STEP=2     the pruning step during which a worker is killed
#   DIR=...         where everything goes
#   UP_ARGS=...     more options for ./shears up, e.g. "--scheduler-port 8081 --broker-port 9093" for a second run
#                   beside the first (each pipeline's busy worker has one thread, so two runs fit two cores)
#   QUICK=1         a smoke run: the committed 2,000-image subset, 1 dense epoch, 20 fine-tune iterations per step
#                   (its figures are not the recipe's)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RECIPE="${1:?usage: bench/killed-worker-run.sh RECIPE}"
KILL_STEP="${KILL_STEP:-2}"
JOB="$(sed -n 's/^job: *//p' "$RECIPE" | head -1)"
DIR="${DIR:-$ROOT/runs/killed-worker/$JOB}"
die() { echo "killed-worker-run: $*" >&2; exit 1; }
[ -n "$JOB" ] || die "$RECIPE has no job: line"
command -v curl >/dev/null || die "no curl on PATH (fix: apt-get install curl)"
rm -rf "$DIR" && mkdir -p "$DIR"

if [ -n "${QUICK:-}" ]; then
    sed -e 's/^  denseEpochs: .*/  denseEpochs: 1/' -e 's/^  iterationsPerStep: .*/  iterationsPerStep: 20/' \
        -e 's/^  extraIterations: .*/  extraIterations: 20/' -e 's/^  maxDrop: .*/  maxDrop: 0.9/' \
        -e "s|^job: .*|job: $JOB\ndata: $ROOT/trainer/src/test/resources/fashion-mnist-subset|" "$RECIPE" > "$DIR/recipe.yaml"
    RECIPE="$DIR/recipe.yaml"
fi

started=$(date +%s)
"$ROOT/shears" up --dir "$DIR/pipeline" ${UP_ARGS:-} > "$DIR/up.log" 2>&1 &
UP=$!
trap 'kill -TERM $UP 2>/dev/null; wait $UP 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    grep -q "Submit a job" "$DIR/up.log" && break
    kill -0 $UP 2>/dev/null || { cat "$DIR/up.log" >&2; die "./shears up exited"; }
    sleep 1
done
URL="$(sed -n 's/^scheduler *\(http[^ ]*\).*/\1/p' "$DIR/up.log" | head -1)"
[ -n "$URL" ] || die "no scheduler URL in $DIR/up.log"
echo "pipeline up: scheduler $URL"; grep "^worker" "$DIR/up.log"

"$ROOT/shears" submit "$RECIPE" --scheduler "$URL"
job_field() {  # job_field EXPR: a Python expression over the job's JSON j
    curl -sf "$URL/jobs/$JOB" | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}
while true; do
    state="$(job_field "j['state']")"
    case "$state" in published|failed|cancelled) die "the job ended ($state) before step $KILL_STEP";; esac
    ready="$(job_field "int(j['state']=='pruning' and j.get('progress') is not None and j['progress']['seq']==$KILL_STEP and j['progress']['fraction']>=0.33)")"
    if [ "$ready" = 1 ]; then break; fi
    sleep 2
done
worker="$(job_field "j['progress']['worker']")"
pid="$(sed -n "s/^$worker *pid \([0-9]*\).*/\1/p" "$DIR/up.log")"
[ -n "$pid" ] || die "no pid for $worker in $DIR/up.log"
echo "$(date -u +%FT%TZ) step $KILL_STEP a third done on $worker: kill -9 $pid"
kill -9 "$pid"

"$ROOT/shears" status "$JOB" --scheduler "$URL" --watch | tee "$DIR/status.txt"
echo "wall time $(( $(date +%s) - started )) s (pipeline start to published); everything in $DIR"
grep -q "JobResumed" <("$ROOT/shears" status "$JOB" --scheduler "$URL" 2>/dev/null; curl -sf "$URL/jobs/$JOB") \
    && echo "the job resumed on the surviving worker" || echo "WARNING: no JobResumed in the job's history"
