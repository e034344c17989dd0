# Shared by the harnesses (sourced, not run): ROOT and JAR, the command line as run,
# building the jar when it is stale, the directory the raw outputs go to, the load average sampled meanwhile, and the
# report.
#   NAME     the sourcing script's name, for messages
#   MODULES  the modules whose sources the jar is built from
#   RESULT   the report's name under bench/results and in README's <!-- bench:RESULT --> block (default NAME)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/bench/target/benchmarks.jar"

die() { echo "$NAME: $*" >&2; exit 1; }
has() { [[ " $PARTS " == *" $1 "* ]]; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# init "DEFAULT PARTS" VARIABLE...: PARTS (default the first argument), OUT (default bench/results/RESULT.md), COMMAND
# (the script as it was run, with those of the variables named that are set); and the tools every harness needs.
init() {
    local parts="$1"
    shift
    COMMAND="bench/$NAME.sh"
    for v in "$@"; do
        if [ -n "${!v:-}" ]; then COMMAND="$v=\"${!v}\" $COMMAND"; fi
    done
    PARTS="${PARTS:-$parts}"
    RESULT="${RESULT:-$NAME}"
    OUT="${OUT:-$ROOT/bench/results/$RESULT.md}"
    command -v java >/dev/null || die "no java on PATH (fix: install a JDK 17)"
    command -v python3 >/dev/null || die "no python3 on PATH (the harness's report is written in Python)"
}

# PyTorch's side of a comparison: Debian's python3-torch run by TORCH_PY, on Debian's OpenBLAS (its directory
# OPENBLAS_DIR goes first on PyTorch's LD_LIBRARY_PATH; the machine's alternatives stay as they are), GNU time and
# Fashion-MNIST; installs what is missing (root; Debian packages).
TORCH_PY=/usr/bin/python3
OPENBLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-pthread
FASHION_MNIST=/usr/share/datasets/fashion-mnist
need_torch() {
    local missing=()
    [ -x "$TORCH_PY" ] && "$TORCH_PY" -c 'import torch' 2>/dev/null || missing+=(python3-torch)
    [ -f "$OPENBLAS_DIR/libblas.so.3" ] || missing+=(libopenblas0-pthread)
    [ -x /usr/bin/time ] || missing+=(time)
    [ -f "$FASHION_MNIST/train-images-idx3-ubyte.gz" ] || missing+=(dataset-fashion-mnist)
    if ((${#missing[@]})); then
        [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]} (fix: apt-get install -y ${missing[*]} as root)"
        echo "== installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q "${missing[@]}" >&2 \
            || { apt-get update -q >&2 && apt-get install -y -q "${missing[@]}" >&2; } \
            || die "apt-get install ${missing[*]} failed"
    fi
}

# Builds bench/target/benchmarks.jar when missing, older than the sources of MODULES, or REBUILD=1.
build_jar() {
    if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$JAR" ] || [ -n "$(cd "$ROOT" && find $(for m in $MODULES; do
            echo "$m/src/main $m/pom.xml"; done) -newer "$JAR" -print -quit 2>/dev/null)" ]; then
        echo "== building $JAR (mvn -pl bench -am package)" >&2
        (cd "$ROOT" && mvn -B -q -o -Dstyle.color=never -pl bench -am package -DskipTests) >&2 || die "build failed"
    fi
}

# TMP: KEEP when set (kept), else a new temporary directory (removed at exit); start holds the date, loads the 1-minute
# load average every 5 s until stop_sampling.
start_run() {
    if [ -n "${KEEP:-}" ]; then
        TMP="$KEEP"; mkdir -p "$TMP"
    else
        TMP="$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")"
    fi
    date '+%Y-%m-%d %H:%M:%S %z' > "$TMP/start"
    (while true; do cut -d' ' -f1 /proc/loadavg; sleep 5; done) > "$TMP/loads" &
    SAMPLER=$!
    trap 'kill $SAMPLER 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
}

stop_sampling() { kill "$SAMPLER" 2>/dev/null || true; }

# Prints the report the Python script $1 writes from TMP and COMMAND and copies it to OUT unless OUT is "-"; when OUT
# is bench/results/RESULT.md, README.md's <!-- bench:RESULT --> block is replaced with it too.
report() {
    python3 "$ROOT/bench/$1" "$TMP" "$COMMAND" > "$TMP/report.md" || die "the report failed"
    cat "$TMP/report.md"
    if [ "$OUT" != "-" ]; then
        mkdir -p "$(dirname "$OUT")"
        cp "$TMP/report.md" "$OUT"
        echo "== written to $OUT" >&2
    fi
    if [ "$OUT" = "$ROOT/bench/results/$RESULT.md" ]; then
        python3 "$ROOT/bench/readme_results.py" "$RESULT" "$OUT" || echo "== README.md not updated (see above)" >&2
    fi
}
