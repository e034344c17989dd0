package dev.shears.prune;

import java.util.Map;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The LeNet of PyTorch's pruning tutorial as a DL4J network: conv1 Conv2d(1, 6, 3), conv2
 * Conv2d(6, 16, 3), fc1 Linear(16*5*5, 120), fc2 Linear(120, 84), fc3 Linear(84, 10), with 2x2 max
 * pooling after each convolution. The input is 28x28x1: with 3x3 kernels and 2x2 pools that is what
 * leaves 16x5x5 = 400 features for fc1 (a 32x32 input would leave 16x6x6 = 576; the tutorial never
 * runs a forward pass, so its mismatch does not show there).
 *
 * <p>Initialised as PyTorch does: weights and biases uniform in +-1/sqrt(fan_in), seeded.
 */
final class TutorialLeNet {
    static final int SIDE = 28;

    private TutorialLeNet() {}

    static MultiLayerNetwork build(long seed) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .weightInit(WeightInit.UNIFORM)
                .updater(new Sgd(0.1))
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv1").nIn(1).nOut(6).activation(Activation.RELU)
                        .build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1").kernelSize(2, 2)
                        .stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv2").nOut(16).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool2").kernelSize(2, 2)
                        .stride(2, 2).build())
                .layer(new DenseLayer.Builder().name("fc1").nOut(120).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("fc2").nOut(84).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("fc3").nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(SIDE, SIDE, 1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        initBiases(net, seed);
        return net;
    }

    /** DL4J starts biases at 0; PyTorch draws them uniform in +-1/sqrt(fan_in) (which makes |b| rankable). */
    private static void initBiases(MultiLayerNetwork net, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (Layer layer : net.getLayers()) {
            Map<String, INDArray> params = layer.paramTable();
            if (params.containsKey("b")) {
                INDArray w = params.get("W");
                long fanIn = w.rank() == 4 ? w.size(1) * w.size(2) * w.size(3) : w.size(0);
                double bound = 1 / Math.sqrt(fanIn);
                INDArray b = params.get("b");
                for (long i = 0; i < b.length(); i++) {
                    b.putScalar(i, (2 * random.nextDouble() - 1) * bound);
                }
            }
        }
    }

    /** A batch of seeded random 28x28 images, NCHW. */
    static INDArray batch(int n, long seed) {
        return Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(seed), n, 1, SIDE, SIDE);
    }

    /** Random one-hot labels for {@code n} examples. */
    static INDArray labels(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        INDArray labels = Nd4j.zeros(n, 10);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, random.nextInt(10), 1);
        }
        return labels;
    }
}
