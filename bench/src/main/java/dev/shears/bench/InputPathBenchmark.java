package dev.shears.bench;

import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.cpu.MaxPooling;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.LoadedDataset;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Steps of every LeNet-5 training iteration outside the convolutions' and dense layers' arithmetic, through their
 * public entry points:
 * <ul>
 *   <li>{@code batch}: the next shuffled, normalised batch of 64 Fashion-MNIST images ({@link Batches#next()}: staging
 *       and the copy into ND4J);</li>
 *   <li>{@code poolStep}: LeNet-5's first max pooling (2×2, stride 2, over 64 × 6 × 28 × 28), its training forward
 *       pass and the back-propagation that follows, as in every iteration, with {@link MaxPooling} installed
 *       ({@code path=shears}: oneDNN primitives kept, the forward pass's workspace used by the back-propagation) or
 *       DL4J's layer with its oneDNN helper ({@code dl4j}), the output and the input gradient made in workspaces as in
 *       training, on ReLU outputs ({@code relu}: a Gaussian less 0.3, clipped at 0, so ties at zero) or on Gaussian
 *       values ({@code gaussian}).</li>
 * </ul>
 * Run it pinned, with the data set where the job reads it:
 * {@code taskset -c 0 java -jar bench/target/benchmarks.jar InputPathBenchmark -p data=/usr/share/datasets/fashion-mnist}.
 * To compare with an earlier build, copy this file into that checkout's bench module and build and run it there.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g", "-XX:ActiveProcessorCount=1"})
public class InputPathBenchmark {

    /** The batches of one training run. */
    @State(Scope.Thread)
    public static class Stream {
        /** The data set's directory (its four IDX .gz files). */
        @Param({"/usr/share/datasets/fashion-mnist"})
        public String data;

        Batches batches;

        @Setup
        public void open() {
            batches = Batches.shuffled(LoadedDataset.read(Path.of(data)).trainExamples(),
                    BenchModels.FASHION_MNIST_IMAGES, 64, 42, Augmentation.NONE);
        }
    }

    /** LeNet-5's first pooling layer after a forward pass, and an output gradient. */
    @State(Scope.Thread)
    public static class Pooling {
        /** What the layer pooled: {@code relu} or {@code gaussian}. */
        @Param({"relu", "gaussian"})
        public String values;

        /** {@code shears}: {@link MaxPooling} installed; {@code dl4j}: DL4J's layer and helper. */
        @Param({"shears", "dl4j"})
        public String path;

        Layer layer;
        INDArray input;
        INDArray epsilon;
        /**
         * The output and the input gradient in workspaces, as in training: a fresh 1.2 MB array each call would time
         * ND4J's allocation (zeroing and page faults), more than the pooling itself. Checked in set-up.
         */
        LayerWorkspaceMgr workspaces;

        @Setup
        public void build() {
            MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).list()
                    .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2)
                            .stride(2, 2).build())
                    .setInputType(InputType.convolutional(28, 28, 6)).build();
            MultiLayerNetwork net = new MultiLayerNetwork(conf);
            net.init();
            if (path.equals("shears") && MaxPooling.SWAP.install(net) != 1) {
                throw new IllegalStateException("MaxPooling did not take the pooling layer");
            }
            Random random = new Random(7);
            float[] input = new float[64 * 6 * 28 * 28];
            for (int i = 0; i < input.length; i++) {
                float g = (float) random.nextGaussian();
                input[i] = values.equals("relu") ? Math.max(0f, g - 0.3f) : g;
            }
            layer = net.getLayer(0);
            this.input = Nd4j.create(input, new long[]{64, 6, 28, 28}, DataType.FLOAT);
            epsilon = Nd4j.rand(DataType.FLOAT, 64, 6, 14, 14);
            WorkspaceConfiguration gradients = WorkspaceConfiguration.builder().initialSize(0)
                    .overallocationLimit(0.05).policyLearning(LearningPolicy.FIRST_LOOP)
                    .policyAllocation(AllocationPolicy.OVERALLOCATE).policySpill(SpillPolicy.REALLOCATE).build();
            LayerWorkspaceMgr.Builder builder = LayerWorkspaceMgr.builder();
            for (ArrayType type : ArrayType.values()) {
                if (type == ArrayType.ACTIVATION_GRAD) {
                    builder.with(type, "input-gradient", gradients);
                } else if (type == ArrayType.ACTIVATIONS) {
                    builder.with(type, "activations", gradients);
                } else {
                    builder.noWorkspaceFor(type);
                }
            }
            workspaces = builder.build();
            try (MemoryWorkspace out = workspaces.notifyScopeEntered(ArrayType.ACTIVATIONS)) {
                if (!layer.activate(this.input, true, workspaces).isAttached()) {
                    throw new IllegalStateException("the output is not in the workspace");
                }
                try (MemoryWorkspace ws = workspaces.notifyScopeEntered(ArrayType.ACTIVATION_GRAD)) {
                    if (!layer.backpropGradient(epsilon, workspaces).getSecond().isAttached()) {
                        throw new IllegalStateException("the input gradient is not in the workspace");
                    }
                }
            }
        }
    }

    @Benchmark
    public DataSet batch(Stream stream) {
        return stream.batches.next();
    }

    @Benchmark
    public void poolStep(Pooling pooling, Blackhole sink) {
        try (MemoryWorkspace out = pooling.workspaces.notifyScopeEntered(ArrayType.ACTIVATIONS)) {
            sink.consume(pooling.layer.activate(pooling.input, true, pooling.workspaces).getFloat(0));
            try (MemoryWorkspace ws = pooling.workspaces.notifyScopeEntered(ArrayType.ACTIVATION_GRAD)) {
                sink.consume(pooling.layer.backpropGradient(pooling.epsilon, pooling.workspaces).getSecond()
                        .getFloat(0));
            }
        }
    }
}
