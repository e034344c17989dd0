package dev.shears.bench;

import dev.shears.common.data.Normalization;
import dev.shears.prune.Amount;
import dev.shears.prune.Compaction;
import dev.shears.prune.Norm;
import dev.shears.prune.Pruning;
import dev.shears.trainer.data.Roots;
import dev.shears.trainer.model.Models;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * The networks the compaction and size benchmarks run on, and the structured pruning they apply. Both take
 * {@code [batch, 784]} FLOAT input (a 1x28x28 image, as Fashion-MNIST) and output 10 softmax probabilities.
 *
 * <ul>
 *   <li>{@code lenet5}: the pipeline's model, {@link Models#lenet5} (61,706 parameters, about 0.85 MFLOPs per
 *       image).</li>
 *   <li>{@code vgg}: a VGG-style network a user would compact, 64-128-256 channels of 3x3 convolutions
 *       (conv1 64, conv2 64, pool, conv3 128, conv4 128, pool, conv5 256, fc1 256, out 10; ReLU; about 80 MFLOPs
 *       per image). Its convolutions are unpadded: a channel removed before a padded convolution can only go when
 *       its activated bias is zero (the padded border would see it otherwise), so {@link Compaction} keeps about
 *       half of them with random biases.</li>
 * </ul>
 *
 * Weights and biases are drawn as PyTorch initialises {@code Conv2d} and {@code Linear} (uniform in
 * {@code ±1/sqrt(fan_in)}), from a fixed seed.
 */
final class BenchModels {

    static final long SEED = 42;
    /** Fashion-MNIST's pixel mean and deviation, as PyTorch users write {@code Normalize((0.2860,), (0.3530,))}. */
    private static final double FASHION_MNIST_MEAN = 0.2860;
    private static final double FASHION_MNIST_STD = 0.3530;
    /**
     * Fashion-MNIST's pixels standardised as PyTorch users do, fed flat: what the benchmarks' models and their PyTorch
     * counterparts read.
     */
    static final Normalization FASHION_MNIST_FLAT = Normalization.uniform(784, FASHION_MNIST_MEAN, FASHION_MNIST_STD);
    /** The same standardisation for images of one channel, as the job's batches are made. */
    static final Normalization FASHION_MNIST_IMAGES = Normalization.uniform(1, FASHION_MNIST_MEAN, FASHION_MNIST_STD);
    /** Where Debian's dataset-fashion-mnist installs Fashion-MNIST. */
    static final Path FASHION_MNIST = Roots.DEBIAN_DATASETS.resolve("fashion-mnist");
    /** The committed subset of Fashion-MNIST, relative to the checkout's root. */
    static final Path FASHION_MNIST_SUBSET = Path.of("trainer/src/test/resources/fashion-mnist-subset");
    static final List<String> NAMES = List.of("lenet5", "vgg");
    /** Publisher's tolerance between the compacted and the uncompacted model's outputs. */
    static final double TOLERANCE = 1e-4;

    private BenchModels() {}

    /** A fresh network by name ({@link #NAMES}), Nesterov SGD 0.01/0.9 as the job's recipe. */
    static MultiLayerNetwork build(String name) {
        return switch (name) {
            case "lenet5" -> Models.lenet5(SEED, new Nesterovs(0.01, 0.9), 0);
            case "vgg" -> vgg(SEED);
            default -> throw new IllegalArgumentException("unknown model '" + name + "': valid are " + NAMES);
        };
    }

    static MultiLayerNetwork vgg(long seed) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .updater(new Nesterovs(0.01, 0.9))
                .weightInit(WeightInit.UNIFORM)
                .list()
                .layer(conv("conv1", 64))
                .layer(conv("conv2", 64))
                .layer(pool("pool1"))
                .layer(conv("conv3", 128))
                .layer(conv("conv4", 128))
                .layer(pool("pool2"))
                .layer(conv("conv5", 256))
                .layer(new DenseLayer.Builder().name("fc1").nOut(256).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).name("out").nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < net.getnLayers(); i++) {
            INDArray w = net.getLayer(i).getParam("W");
            INDArray b = net.getLayer(i).getParam("b");
            if (w != null && b != null) {
                double bound = 1 / Math.sqrt(w.length() / b.length());
                for (long j = 0; j < b.length(); j++) {
                    b.putScalar(j, (random.nextDouble() * 2 - 1) * bound);
                }
            }
        }
        return net;
    }

    private static ConvolutionLayer conv(String name, int channels) {
        return new ConvolutionLayer.Builder(3, 3).name(name).nOut(channels).activation(Activation.RELU).build();
    }

    private static SubsamplingLayer pool(String name) {
        return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name(name).kernelSize(2, 2)
                .stride(2, 2).build();
    }

    /** The weights structured pruning removes filters from: every convolution's and every hidden dense layer's. */
    static List<String> structuredWeights(MultiLayerNetwork net) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            Layer layer = net.getLayer(i).conf().getLayer();
            if (layer instanceof ConvolutionLayer || layer instanceof DenseLayer) {
                names.add(layer.getLayerName() + ".weight");
            }
        }
        return names;
    }

    /**
     * Prunes {@code sparsity} of the filters of every {@link #structuredWeights} (L2 norm over dim 0, as
     * {@code prune.ln_structured(m, "weight", amount, n=2, dim=0)}), makes it permanent in {@code net}, and returns
     * {@link Compaction#compact} of the result. {@code net} keeps its shapes, with the pruned filters all zero.
     */
    static Compaction.Result pruneStructuredAndCompact(MultiLayerNetwork net, double sparsity) {
        Pruning pruning = Pruning.of(net);
        for (String name : structuredWeights(net)) {
            pruning.lnStructured(name, Amount.fraction(sparsity), Norm.L2, 0);
        }
        pruning.removeAll();
        return Compaction.compact(net);
    }

    /** A fixed standard-normal input of {@code batch} examples. */
    static INDArray input(int batch) {
        Nd4j.getRandom().setSeed(SEED);
        return Nd4j.randn(DataType.FLOAT, batch, 784);
    }

    /**
     * The largest absolute difference between the outputs of {@code a} and {@code b} on {@code x}.
     *
     * @throws IllegalStateException when it exceeds {@link #TOLERANCE}: they do not compute the same function
     */
    static double checkSameOutputs(MultiLayerNetwork a, MultiLayerNetwork b, INDArray x, String what) {
        double diff = a.output(x).sub(b.output(x)).amaxNumber().doubleValue();
        if (!(diff <= TOLERANCE)) {
            throw new IllegalStateException(what + ": the compacted outputs differ from the pruned model's by " + diff
                    + " (more than " + TOLERANCE + "); the speed-up would not be of the same function");
        }
        return diff;
    }
}
