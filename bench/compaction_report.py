"""The Markdown report of bench/compaction.sh, from the outputs it collected in one directory.

Usage: python3 bench/compaction_report.py DIR COMMAND
  DIR holds start, load_start, load_end, and for each thread count T that ran: jmh-T.json (JMH),
  turns-T.log (CompactionSpeedup's CASE lines); and sizes.log (ArtifactSizes' DENSE and SIZE lines).
"""
import glob
import json
import os
import platform
import re
import sys

from machine import describe

SPEEDUP_GOAL = 1.8  # at 50 % filter sparsity
SIZE_SLACK = 0.05   # goal: size <= (1 - s) + 5 % of the dense size


def kv(line):
    return dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)


def read(path, default=""):
    return open(path).read().strip() if os.path.exists(path) else default


def threads_of(path):
    return int(re.search(r"-(\d+)\.(json|log)$", path).group(1))


def machine():
    return describe()


def fmt_ms(us):
    return f"{us / 1000:.3f}" if us < 10_000 else f"{us / 1000:.1f}"


def speedup_section(d, out):
    jmh = {}
    for path in sorted(glob.glob(os.path.join(d, "jmh-*.json"))):
        t = threads_of(path)
        for r in json.load(open(path)):
            p = r["params"]
            m = r["primaryMetric"]
            assert m["scoreUnit"] == "ms/op", m["scoreUnit"]
            key = (p["model"], float(p["sparsity"]), int(p["batch"]), t)
            jmh.setdefault(key, {})[p["variant"]] = (m["score"], m.get("scoreError"))
    turns, cpu_lines = {}, []
    for path in sorted(glob.glob(os.path.join(d, "turns-*.log"))):
        t = threads_of(path)
        for line in open(path):
            if line.startswith("CASE "):
                c = kv(line)
                turns[(c["model"], float(c["sparsity"]), int(c["batch"]), t)] = c
            elif line.startswith("CPU "):
                cpu_lines.append(line[4:].strip())
    if not jmh and not turns:
        return
    out.append("## Compaction speed-up")
    out.append("")
    out.append("Structured L2 pruning over dim 0 of every convolution and hidden dense weight"
               " (`lnStructured(name, amount, L2, 0)`), `removeAll()`, then `Compaction.compact`. *dense* is the"
               " pruned network at its full shapes, *compacted* the smaller one; both compute the same function"
               " (max |diff| of their outputs on the benchmark input, checked before timing). `net.output(x)` on a"
               " fixed standard-normal batch; batch 1 is latency, batch 256 throughput (ms per batch, and examples/s).")
    out.append("")
    out.append("| model | sparsity | batch | threads | dense (JMH) | compacted (JMH) | speed-up (JMH) |"
               " speed-up in turns (q1–q3) | dense / compacted in turns | parameters | MFLOPs / example |"
               " max \\|diff\\| | goal ≥ 1.8× at 50 % |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key in sorted(set(jmh) | set(turns), key=lambda k: (k[0] != "lenet5", k[0], k[1], k[2], k[3])):
        model, s, batch, t = key
        j = jmh.get(key, {})
        c = turns.get(key)

        def jcell(variant):
            if variant not in j:
                return "–"
            score, err = j[variant]
            e = f" ± {err:.3g}" if isinstance(err, (int, float)) and err == err else ""
            cell = f"{score:.3f}{e} ms"
            if batch > 1:
                cell += f" ({batch * 1000 / score:,.0f}/s)"
            return cell

        jratio = f"{j['dense'][0] / j['compacted'][0]:.2f}×" if "dense" in j and "compacted" in j else "–"
        if c:
            ratio = float(c["speedup"])
            tcell = f"**{ratio:.2f}×** ({float(c['q1']):.2f}–{float(c['q3']):.2f})"
            times = f"{fmt_ms(float(c['dense_us']))} / {fmt_ms(float(c['compacted_us']))} ms"
            params = f"{int(c['params_before']):,} → {int(c['params_after']):,}"
            flops = f"{int(c['flops_before']) / 1e6:.2f} → {int(c['flops_after']) / 1e6:.2f}"
            diff = c["max_diff"]
        else:
            ratio, tcell, times, params, flops, diff = None, "–", "–", "–", "–", "–"
        if abs(s - 0.5) < 1e-9 and ratio is not None:
            goal = "met" if ratio >= SPEEDUP_GOAL else "NOT MET"
        else:
            goal = ""
        out.append(f"| {model} | {s:g} | {batch} | {t} | {jcell('dense')} | {jcell('compacted')} | {jratio} |"
                   f" {tcell} | {times} | {params} | {flops} | {diff} | {goal} |")
    out.append("")
    out.append("JMH: AverageTime, mean ± 99.9 % CI, one fork per row, the dense and compacted rows minutes apart."
               " In turns (`CompactionSpeedup`): the two run alternately in one JVM, blocks of about --block-ms (200 ms by default), the"
               " order flipping every pair; the speed-up is the median of the per-pair ratios (quartiles in"
               " brackets), the times the medians per call. The goal is judged on the ratio in turns.")
    kept = sorted({(k[0], k[1], c["kept"]) for k, c in turns.items()})
    if kept:
        out.append("")
        out.append("Channels kept per layer: " + "; ".join(f"{m} at {s:g}: {k.replace(',', ', ')}" for m, s, k in kept))
    for line in cpu_lines:
        out.append("")
        out.append(f"ND4J: {line}")
    out.append("")


def sizes_section(d, out):
    path = os.path.join(d, "sizes.log")
    if not os.path.exists(path):
        return
    dense, rows = {}, []
    for line in open(path):
        if line.startswith("DENSE "):
            x = kv(line)
            dense[x["model"]] = x
        elif line.startswith("SIZE "):
            rows.append(kv(line))
    out.append("## Artifact and checkpoint size against sparsity")
    out.append("")
    out.append("Global L1 unstructured pruning over all weights (`globalUnstructured`), after a little dense"
               " training (Nesterov SGD on Fashion-MNIST) and a few masked iterations. *artifact*: `model.sparse.zip`"
               " (`SparseModel.write`) of the published model, made as `Publisher` does (`removeAll()`, compacted"
               " when that removes channels); against the dense `model.zip` (`ModelSerializer`, no updater)."
               " *checkpoint*: the directory `Checkpoints.save` writes (`model.zip` with updater state, masks as bits"
               " and `_orig` at the pruned positions, `state.json`, `MANIFEST`); against the dense checkpoint."
               f" Goal: ≤ (1 − s) + {SIZE_SLACK:.0%} of the dense size.")
    out.append("")
    out.append("| model | dense model.zip | dense checkpoint | parameters |")
    out.append("|---|---|---|---|")
    for m, x in dense.items():
        out.append(f"| {m} | {int(x['model_zip']):,} B | {int(x['checkpoint']):,} B | {int(x['params']):,}"
                   f" ({int(x['raw_bytes']):,} B as float32) |")
    out.append("")
    out.append("| model | sparsity | goal | artifact | % of dense model.zip | artifact goal | published model.zip |"
               " checkpoint | % of dense checkpoint | checkpoint goal | checkpoint: params / updater /"
               " masks + `_orig` / other | compacted layers |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        m, s = r["model"], float(r["sparsity"])
        goal = 1 - s + SIZE_SLACK
        dz, dc = int(dense[m]["model_zip"]), int(dense[m]["checkpoint"])
        a, c = int(r["sparse_zip"]), int(r["checkpoint"])
        parts = " / ".join(f"{int(r[k]) / dc:.1%}" for k in ("ckpt_params", "ckpt_updater", "ckpt_masks", "ckpt_other"))
        out.append(f"| {m} | {s:g} | ≤ {goal:.0%} | {a:,} B | {a / dz:.1%} | {'met' if a / dz <= goal else 'NOT MET'} |"
                   f" {int(r['model_zip']):,} B | {c:,} B | {c / dc:.1%} | {'met' if c / dc <= goal else 'NOT MET'} |"
                   f" {parts} | {r['compacted'].replace(',', ', ')} |")
    out.append("")
    out.append("The checkpoint's parts are the compressed sizes of its entries as fractions of the dense checkpoint."
               " The size goal is the artifact's: a checkpoint keeps what resuming with PyTorch's semantics needs,"
               " the parameters and the updater state in DL4J's dense format (so DL4J alone restores it; deflate"
               " shrinks the zeros), the mask as bits and `_orig` at the pruned positions (s × 4 bytes of"
               " incompressible floats per parameter), so its masks + `_orig` part grows with s while the goal"
               " shrinks as 1 − s. (PyTorch's `state_dict` of a pruned model keeps `weight_orig` whole and the mask"
               " as floats: larger than the dense one at any sparsity.)")
    out.append("")


def main():
    d, command = sys.argv[1], sys.argv[2]
    cpu, nproc, java = machine()
    out = ["# Compaction speed-up and artifact sizes", ""]
    out.append(f"- command: `{command}`")
    out.append(f"- date: {read(os.path.join(d, 'start'))}")
    out.append(f"- machine: {platform.node()}, {nproc} CPUs (`nproc --all`), {cpu}")
    out.append(f"- load average (1/5/15 min): {read(os.path.join(d, 'load_start'))} at start,"
               f" {read(os.path.join(d, 'load_end'))} at end (above {nproc}: other work shared the CPUs)")
    out.append(f"- {java}; OMP_WAIT_POLICY=PASSIVE; threads = OMP_NUM_THREADS and -XX:ActiveProcessorCount")
    out.append("")
    speedup_section(d, out)
    sizes_section(d, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()
