#!/usr/bin/python3
"""Where a Shears job's CPU time goes, from async-profiler's collapsed stacks (bench/profile.sh).

  /usr/bin/python3 bench/profile_report.py STACKS SUMMARY_JSON INTERVAL_MS

STACKS: collapsed stacks with thread names (async-profiler `collapsed,threads`), one `frame;frame;... count` a line.
Every sample is put in one row: first by thread (JIT compilers, GC and VM, ND4J's deallocators, the job's thread),
then, on the job's thread, by phase (start-up, data loading, training, pruning, evaluation, checkpoints,
publication) and, inside training, by operation (each layer's forward and backward pass, the updater, masking, data
batching). Each row gives CPU seconds (samples x the sampling interval of CPU time), its share of all samples, the
share of its own samples spent inside native kernels (libnd4j, oneDNN, OpenBLAS: below an Nd4jCpu exec call or a call
into oneDNN's own API) as
against Java/JNI (op objects, shape information, workspaces, allocation), and for training rows the milliseconds
per training iteration.
"""
import collections
import json
import sys

stacks_file, summary_file, interval_ms = sys.argv[1], sys.argv[2], float(sys.argv[3])

THREADS = (
    ("CompilerThre", "JIT compiler threads (C1, C2)"),
    ("VM Thread", "GC and VM threads"), ("GC Thread", "GC and VM threads"), ("VM Periodic", "GC and VM threads"),
    ("Deallocator", "ND4J off-heap deallocator threads"),
)

# On the job's thread: (frame substring, phase), the first match from the top of this list wins.
PHASES = (
    ("EvalResult.evaluate", "evaluation (the test set after every step)"),
    ("Checkpoints.save", "checkpoints"),
    ("Publisher.publish", "publication (remove, verify, compaction, latency, files)"),
    ("PruningPlan.apply", "pruning: global L1 masks"),
    ("MaskedTraining.refresh", "pruning: masks into the model and updater state"),
    ("Batches.next", "training: data batching (Batches.next)"),
    ("MultiLayerNetwork.fit", "training"),
    ("FashionMnist.load", "start-up: data loading (IDX files, standardisation)"),
    ("CpuAcceleration.enable", "start-up: ND4J native libraries and the oneDNN probe"),
    ("org/nd4j/linalg/factory/Nd4j.<clinit>", "start-up: ND4J native libraries and the oneDNN probe"),
    ("Models.create", "start-up: building the model"),
    ("Checkpoints.restoreLatest", "start-up: looking for a checkpoint"),
)

# Inside training: (frame substrings that must all be present, operation), the first match wins.
OPERATIONS = (
    (("MaskedTraining",), "masking (gradients and weights x masks)"),
    (("BaseMultiLayerUpdater.update",), "updater (Nesterov, L2)"),
    (("ReluGradients$Relu.backprop",), "ReLU backward (conv and dense layers)"),
    (("calcBackpropGradients", "OneDnnConvolution"), "conv1, conv2 backward (oneDNN primitives; conv1: weights only)"),
    (("calcBackpropGradients", "InputLayerGradients"), "conv1 backward (weight gradient only)"),
    (("calcBackpropGradients", "ConvolutionLayer.backpropGradient"), "conv backward: DL4J's layer code around its helper"),
    (("calcBackpropGradients", "MaxPooling$Pool"), "max pooling backward (oneDNN, from the kept maxima)"),
    (("calcBackpropGradients", "SubsamplingLayer.backpropGradient"), "max pooling backward (DL4J)"),
    (("calcBackpropGradients", "BaseOutputLayer"), "output layer backward (softmax, cross-entropy, fc3)"),
    (("calcBackpropGradients", "BaseLayer.backpropGradient"), "dense layers backward (fc1, fc2)"),
    (("computeScore",), "loss (score)"),
    (("ffToLayerActivationsInWs", "ConvolutionLayer"), "conv1, conv2 forward (oneDNN) and ReLU"),
    (("ffToLayerActivationsInWs", "InputLayerGradients"), "conv1, conv2 forward (oneDNN) and ReLU"),
    (("ffToLayerActivationsInWs", "MaxPooling$Pool"), "max pooling forward (oneDNN, keeping the maxima)"),
    (("ffToLayerActivationsInWs", "SubsamplingLayer"), "max pooling forward (DL4J: libnd4j / oneDNN)"),
    (("ffToLayerActivationsInWs", "BaseOutputLayer"), "output layer forward"),
    (("ffToLayerActivationsInWs", "BaseLayer"), "dense layers forward (fc1, fc2) and ReLU"),
    (("ffToLayerActivationsInWs",), "forward: DL4J machinery between layers"),
    (("calcBackpropGradients",), "backward: DL4J machinery between layers"),
)


def classify(frames):
    thread = frames[0]
    for key, name in THREADS:
        if key in thread:
            return name, None
    stack = ";".join(frames)
    if "dev/shears" not in stack and "DestroyJavaVM" not in thread and "[main" not in thread:
        return "other threads", None
    for key, phase in PHASES:
        if key in stack:
            if phase != "training":
                return phase, None
            for keys, op in OPERATIONS:
                if all(k in stack for k in keys):
                    return "training", op
            return "training", "DL4J fit machinery (workspaces, gradients view, listeners)"
    return "start-up: JVM, class loading, command line", None


def main():
    samples = collections.Counter()
    native = collections.Counter()
    total = 0
    for line in open(stacks_file):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, count = line.rsplit(" ", 1)
        count = int(count)
        frames = stack.split(";")
        key = classify(frames)
        samples[key] += count
        if any("nativecpu/bindings/Nd4jCpu.exec" in f or "Nd4jCpu.execCustomOp" in f or "org/bytedeco/dnnl/" in f
               for f in frames):
            native[key] += count
        total += count
    summary = json.load(open(summary_file))
    iterations = sum(s["iterations"] for s in summary["steps"])

    def seconds(n):
        return n * interval_ms / 1000

    print(f"{total} samples of CPU time every {interval_ms:g} ms = {seconds(total):.1f} CPU s; {iterations} training"
          f" iterations; job {summary['seconds']:.1f} s in the process")
    print()
    print(f"{'where':<66} {'CPU s':>7} {'share':>6} {'native':>7} {'ms/iter':>8}")
    print("-" * 98)
    phases = collections.Counter()
    for (phase, _), n in samples.items():
        phases[phase] += n
    for phase, n in phases.most_common():
        nat = sum(native[k] for k in samples if k[0] == phase)
        per_iter = f"{1000 * seconds(n) / iterations:8.3f}" if phase.startswith("training") else ""
        print(f"{phase:<66} {seconds(n):7.1f} {100 * n / total:5.1f}% {100 * nat / n:6.0f}% {per_iter:>8}")
        if phase == "training":
            for (p, op), m in sorted(((k, v) for k, v in samples.items() if k[0] == phase), key=lambda kv: -kv[1]):
                print(f"  {op:<64} {seconds(m):7.1f} {100 * m / total:5.1f}% {100 * native[(p, op)] / m:6.0f}%"
                      f" {1000 * seconds(m) / iterations:8.3f}")


if __name__ == "__main__":
    main()
