"""The Markdown report of bench/resnet-vs-torch.sh (and of bench/mobilenet-vs-torch.sh, the same harness for
MobileNetV2), from the outputs it collected in one directory.

Usage: python3 bench/resnet_report.py DIR COMMAND
  DIR holds start (the date), loads (the 1-minute load average every 5 s), setup (the model, cpus, threads, the
  PyTorch and OpenBLAS packages) and turns.log (bench/interleave.py --model MODEL's RESULT lines).
"""
import os
import sys

from pipeline_report import kv, lines, read
from scheduler_load_report import write

PHASES = (("dense", "training, dense", "samples"), ("masked", None, "samples"),
          ("eval", "evaluation of the 10,000 test images", "samples"), ("checkpoint", "one checkpoint", "checkpoints"))
# per model: the report's title and what its masked phase trains
MODELS = {"resnet20": ("ResNet-20 against PyTorch, in turns", "training, 90 % global L1 (masked)"),
          "mobilenetv2": ("MobileNetV2 against PyTorch, in turns",
                          "training, 50 % of each convolution's channels masked (L2 structured)")}


def setup_of(d):
    return dict(l.split("=", 1) for l in read(os.path.join(d, "setup")).splitlines() if "=" in l)


def turns_section(d, out):
    r = {}
    for line in lines(os.path.join(d, "turns.log"), "RESULT "):
        r.update(kv(line))
    if not r:
        return
    setup = setup_of(d)
    masked = MODELS[setup.get("model", "resnet20")][1]
    out.append(f"Pinning: `taskset -c {setup.get('cpus')}` for both processes, {setup.get('threads')} thread(s) each "
               f"(OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, `torch.set_num_threads`, "
               f"`-XX:ActiveProcessorCount`). PyTorch: {setup.get('torch_package')} on {setup.get('openblas_package')} "
               "(first on its `LD_LIBRARY_PATH`).\n")
    out.append(f"Blocks: {r.get('pairs')} pairs of {r.get('block')}-iteration training blocks per phase after the "
               f"warm-up, {r.get('eval_pairs')} pairs of evaluations, {r.get('checkpoint_pairs')} of checkpoints; "
               "each figure the median of its blocks, each ratio the median of the per-pair ratios.\n")
    out.append("| phase | Shears | PyTorch | Shears / PyTorch per CPU-second (q1-q3; range) | per second |")
    out.append("|---|---|---|---|---|")
    for key, title, unit in PHASES:
        if f"{key}_ratio_per_cpu_s" not in r:
            continue
        title = title or masked
        if unit == "samples":
            shears = f"{float(r[f'{key}_shears_samples_per_s']):,.0f} samples/s"
            torch = f"{float(r[f'{key}_torch_samples_per_s']):,.0f} samples/s"
            if key == "eval":
                shears = f"{float(r['eval_shears_wall_s']):.2f} s"
                torch = f"{float(r['eval_torch_wall_s']):.2f} s"
        else:
            shears = f"{float(r[f'{key}_shears_wall_s']) * 1000:.0f} ms"
            torch = f"{float(r[f'{key}_torch_wall_s']) * 1000:.0f} ms"
        c = lambda s: f"{float(r[f'{key}_ratio_per_cpu_s{s}']):.3f}"
        out.append(f"| {title} | {shears} | {torch} | **{c('')}** ({c('_q1')}-{c('_q3')}; {c('_min')}-{c('_max')}) "
                   f"| {float(r[f'{key}_ratio_per_s']):.3f} |")
    out.append("\nA ratio above 1 means Shears does more in a CPU-second (for evaluations and checkpoints: takes less "
               "time).\n")


def main():
    write(MODELS[setup_of(sys.argv[1]).get("model", "resnet20")][0], turns_section)


if __name__ == "__main__":
    main()
