package dev.shears.bench;

import dev.shears.prune.Compaction;
import dev.shears.trainer.cpu.CpuAcceleration;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Inference with a compacted network against the same network uncompacted: {@code net.output(x)} on a fixed
 * standard-normal batch, for each {@link BenchModels model}, filter sparsity and batch size.
 *
 * <p>The trial's setup (untimed) builds the model, prunes {@code sparsity} of the filters of every convolution and
 * hidden dense weight (structured, L2 over dim 0), makes it permanent ({@code removeAll()}) and compacts it
 * ({@link Compaction#compact}); {@code variant} picks which of the two is timed: {@code dense} is the pruned model at
 * its full shapes (its pruned filters all zero), {@code compacted} the physically smaller one. Setup checks that both
 * give the same outputs on {@code x} (within {@link BenchModels#TOLERANCE}), so the two compute one function.
 *
 * <p>ND4J's native threads follow {@code OMP_NUM_THREADS} of the forked JVM's environment (set it before starting
 * JMH; {@code bench/compaction.sh} runs 1 and 2). Run through {@code bench/compaction.sh}, or
 * {@code OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE java -jar bench/target/benchmarks.jar CompactionBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx2g"})
public class CompactionBenchmark {

    @Param({"lenet5", "vgg"})
    public String model;

    /** Fraction of the filters pruned in every structured weight. */
    @Param({"0.5", "0.75"})
    public double sparsity;

    @Param({"1", "256"})
    public int batch;

    /** {@code dense}: the pruned network at full shapes; {@code compacted}: {@link Compaction#compact} of it. */
    @Param({"dense", "compacted"})
    public String variant;

    private MultiLayerNetwork net;
    private INDArray x;

    @Setup(Level.Trial)
    public void setUp() {
        CpuAcceleration.enable();
        MultiLayerNetwork pruned = BenchModels.build(model);
        Compaction.Result compacted = BenchModels.pruneStructuredAndCompact(pruned, sparsity);
        x = BenchModels.input(batch);
        BenchModels.checkSameOutputs(pruned, compacted.network(), x, model + " at " + sparsity);
        net = switch (variant) {
            case "dense" -> pruned;
            case "compacted" -> compacted.network();
            default -> throw new IllegalArgumentException("variant '" + variant + "': valid are dense, compacted");
        };
    }

    @Benchmark
    public INDArray output() {
        return net.output(x);
    }
}
