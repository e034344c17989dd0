package dev.shears.bench;

import dev.shears.prune.Amount;
import dev.shears.prune.Pruning;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Mask computation at scale, the counterpart of {@code bench/torch_masks.py}:
 *
 * <ul>
 *   <li>{@code globalUnstructured}: global L1 unstructured pruning at 0.5 over 20 float32
 *       tensors of 2048x2048 (83.9M parameters), as {@code prune.global_unstructured(...,
 *       prune.L1Unstructured, amount=0.5)};
 *   <li>{@code l1Unstructured}: {@code prune.l1_unstructured} at 0.5 on one 4096x4096 tensor.
 * </ul>
 *
 * <p>Every invocation starts from unpruned tensors holding the same random-normal values (fixed
 * seed): the untimed per-invocation setup assigns a pristine copy back and builds a fresh
 * {@link Pruning}; the untimed tear-down frees the previous state ({@code _orig}, {@code _mask}).
 * What is timed is the pruning call alone: computing the masks, keeping {@code _orig} and
 * writing {@code orig * mask} into the parameters, as PyTorch's call does.
 *
 * <p>Run through {@code bench/mask-vs-torch.sh}, or {@code java -jar bench/target/benchmarks.jar MaskBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {
        "-Xms1g", "-Xmx3g",
        "-Dorg.bytedeco.javacpp.maxbytes=8G", "-Dorg.bytedeco.javacpp.maxphysicalbytes=10G"})
public class MaskBenchmark {

    static final long SEED = 42;
    static final int GLOBAL_TENSORS = 20;
    static final int GLOBAL_SIDE = 2048;
    static final int SINGLE_SIDE = 4096;
    static final double AMOUNT = 0.5;

    /** Shared data: the parameters, their pristine values, and the pruning object under test. */
    abstract static class Data {
        final Map<String, INDArray> params = new LinkedHashMap<>();
        final List<INDArray> pristine = new ArrayList<>();
        Pruning pruning;

        void create(int count, int side) {
            Nd4j.getRandom().setSeed(SEED);
            for (int i = 0; i < count; i++) {
                INDArray t = Nd4j.randn(DataType.FLOAT, side, side);
                params.put("layer" + i + ".weight", t);
                pristine.add(t.dup('c'));
            }
        }

        /** Untimed: unpruned values back, a fresh pruning state. */
        void restore() {
            int i = 0;
            for (INDArray t : params.values()) {
                t.assign(pristine.get(i++));
            }
            pruning = Pruning.of(params);
        }

        /**
         * Untimed: drops the state the last invocation made ({@code _orig}, {@code _mask}; ND4J
         * frees native memory once the arrays are collected), so invocations don't pile up memory.
         */
        void release() {
            pruning = null;
            System.gc();
        }
    }

    @State(Scope.Benchmark)
    public static class Global extends Data {
        List<String> names;

        @Setup(Level.Trial)
        public void create() {
            create(GLOBAL_TENSORS, GLOBAL_SIDE);
            names = List.copyOf(params.keySet());
        }

        @Setup(Level.Invocation)
        public void before() {
            restore();
        }

        @TearDown(Level.Invocation)
        public void after() {
            release();
        }
    }

    @State(Scope.Benchmark)
    public static class Single extends Data {
        String name;

        @Setup(Level.Trial)
        public void create() {
            create(1, SINGLE_SIDE);
            name = params.keySet().iterator().next();
        }

        @Setup(Level.Invocation)
        public void before() {
            restore();
        }

        @TearDown(Level.Invocation)
        public void after() {
            release();
        }
    }

    @Benchmark
    public Pruning globalUnstructured(Global g) {
        return g.pruning.globalUnstructured(g.names, Amount.fraction(AMOUNT));
    }

    @Benchmark
    public Pruning l1Unstructured(Single s) {
        return s.pruning.l1Unstructured(s.name, Amount.fraction(AMOUNT));
    }
}
