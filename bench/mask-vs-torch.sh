#!/usr/bin/env bash
# Shears vs PyTorch on mask computation at scale, in one go:
#   global: global L1 unstructured pruning at 0.5 over 20 float32 tensors of 2048x2048 (83.9M)
#   l1:     L1 unstructured pruning at 0.5 of one 4096x4096 tensor
# Builds bench/target/benchmarks.jar if needed, runs the JMH benchmarks (MaskBenchmark), the
# memory probe (MaskMemory) and bench/torch_masks.py with Debian's /usr/bin/python3, then prints
# a table. Goal: Shears/PyTorch <= 0.5 on the global mask; at most one extra float copy of the
# parameters in memory.
#
# Usage: bench/mask-vs-torch.sh            (from anywhere; THREADS=2 by default)
#   THREADS=n        threads for both sides (OMP_NUM_THREADS, torch.set_num_threads)
#   REBUILD=1        rebuild the jar even if it exists
#   JMH_ARGS="..."   extra JMH options (e.g. "-i 3 -wi 1")
#   TORCH_ARGS="..." extra options for torch_masks.py (e.g. "--reps 5")
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/bench/target/benchmarks.jar"
TORCH_PY=/usr/bin/python3
THREADS="${THREADS:-2}"
export OMP_NUM_THREADS="$THREADS"
export OMP_WAIT_POLICY=PASSIVE

die() { echo "mask-vs-torch: $*" >&2; exit 1; }

[ -x "$TORCH_PY" ] || die "$TORCH_PY not found (fix: apt-get install -y python3-torch)"
"$TORCH_PY" -c 'import torch' 2>/dev/null \
    || die "$TORCH_PY has no torch module (fix: apt-get install -y python3-torch)"
command -v java >/dev/null || die "no java on PATH (fix: install a JDK 17)"

if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$JAR" ]; then
    echo "== building $JAR" >&2
    (cd "$ROOT" && mvn -B -q -pl bench -am package -DskipTests) || die "build failed"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/mask-vs-torch.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# Other work on the machine skews the timings: keep the load average next to them.
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "== JMH: MaskBenchmark (threads=$THREADS)" >&2
# The native side (ND4J) follows OMP_NUM_THREADS; the Java side splits its work by the available
# processors (Selection's stripes, the common fork-join pool): pin those to THREADS as well.
CPUS="-XX:ActiveProcessorCount=$THREADS"
java -jar "$JAR" 'dev.shears.bench.MaskBenchmark' -jvmArgsAppend "$CPUS" \
    -rf json -rff "$TMP/jmh.json" ${JMH_ARGS:-} > "$TMP/jmh.log" 2>&1 \
    || { tail -40 "$TMP/jmh.log" >&2; die "JMH run failed (log above)"; }
grep -E '^(Benchmark|MaskBenchmark)' "$TMP/jmh.log" >&2 || true

echo "== memory: MaskMemory" >&2
MALLOC_MMAP_THRESHOLD_=131072 java -Xms1g -Xmx3g "$CPUS" -cp "$JAR" dev.shears.bench.MaskMemory \
    > "$TMP/mem.log" 2> "$TMP/mem.err" \
    || { cat "$TMP/mem.err" >&2; die "MaskMemory failed"; }
cat "$TMP/mem.log" >&2

echo "== PyTorch: bench/torch_masks.py" >&2
"$TORCH_PY" "$ROOT/bench/torch_masks.py" --threads "$THREADS" ${TORCH_ARGS:-} > "$TMP/torch.log" \
    || die "torch_masks.py failed"
cat "$TMP/torch.log" >&2

# Any python3 will do for the parsing (no torch needed).
PARSE_PY="$(command -v python3 || echo "$TORCH_PY")"
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
"$PARSE_PY" - "$TMP/jmh.json" "$TMP/torch.log" "$TMP/mem.log" "$THREADS" "$LOAD_START" "$LOAD_END" <<'PY'
import json, platform, re, subprocess, sys, datetime

jmh_file, torch_file, mem_file, threads, load_start, load_end = sys.argv[1:7]

def kv(line):
    return dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)

shears = {}
for r in json.load(open(jmh_file)):
    name = r["benchmark"].rsplit(".", 1)[1]
    m = r["primaryMetric"]
    assert m["scoreUnit"] == "ms/op", m["scoreUnit"]
    err = m.get("scoreError")
    shears[{"globalUnstructured": "global", "l1Unstructured": "l1"}[name]] = (m["score"], err, r["measurementIterations"])

torch, torch_version = {}, "?"
for line in open(torch_file):
    if line.startswith("RESULT "):
        d = kv(line)
        torch[d["op"]] = (float(d["mean_ms"]), float(d["min_ms"]), int(d["reps"]))
        torch_version = d["torch"]

mem = {}
for line in open(mem_file):
    if line.startswith("MEMORY "):
        d = kv(line)
        mem[d["op"]] = d

cpu = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
nproc = subprocess.run(["nproc", "--all"], capture_output=True, text=True).stdout.strip()
java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]

labels = {"global": "global L1, 20 x 2048x2048 @0.5", "l1": "l1_unstructured, 4096x4096 @0.5"}
print()
print(f"machine : {platform.node()}, nproc={nproc}, CPU: {cpu}")
print(f"date    : {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M:%S %z')}")
print(f"threads : {threads} (OMP_NUM_THREADS, JVM -XX:ActiveProcessorCount, torch.set_num_threads)")
print(f"versions: {java}; torch {torch_version}")
print(f"load avg: {load_start} at start, {load_end} at end (1/5/15 min; > nproc means other work shared the CPUs)")
print()
hdr = f"{'operation':<34} {'Shears ms':>16} {'PyTorch ms':>12} {'ratio':>7}  goal"
print(hdr)
print("-" * len(hdr))
for op in ("global", "l1"):
    s, err, n = shears[op]
    t = torch[op][0]
    ratio = s / t
    goal = ("<= 0.5: " + ("met" if ratio <= 0.5 else "NOT MET")) if op == "global" else "-"
    serr = f"{s:.1f}" + (f" ±{err:.1f}" if isinstance(err, (int, float)) and err == err else "")
    print(f"{labels[op]:<34} {serr:>16} {t:>12.1f} {ratio:>7.3f}  {goal}")
print()
print("Shears: JMH AverageTime mean (± 99.9% CI); PyTorch: mean of timed repetitions"
      f" ({', '.join(f'{op} n={torch[op][2]}, min {torch[op][1]:.1f} ms' for op in ('global', 'l1'))}).")
print()
hdr = f"{'memory (Shears)':<34} {'params MB':>10} {'state MB':>9} {'extra peak MB':>14} {'copies':>7} {'retained MB':>12} {'heap MB':>8}"
print(hdr)
print("-" * len(hdr))
for op in ("global", "l1"):
    d = mem[op]
    print(f"{labels[op]:<34} {float(d['params_mb']):>10.1f} {float(d['state_mb']):>9.1f} {float(d['extra_mb']):>14.1f}"
          f" {float(d['extra_copies']):>7.2f} {float(d['retained_mb']):>12.1f} {float(d['heap_peak_extra_mb']):>8.1f}")
print()
print("state = new _orig + _mask; extra peak = peak RSS during the call - RSS before - state"
      " (goal: <= 1.00 copies of the params);\nretained = RSS after the call and a GC - RSS before - state;"
      " heap = Java heap peak growth during the call.")
PY
