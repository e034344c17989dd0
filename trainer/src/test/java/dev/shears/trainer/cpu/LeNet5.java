package dev.shears.trainer.cpu;

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
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** LeNet-5 for 28x28x1 Fashion-MNIST (FLOAT), as the trainer runs it: Nesterovs(0.01, 0.9), batch 64. */
final class LeNet5 {

    static final int BATCH = 64;

    private LeNet5() {}

    /**
     * @param allowFallback false makes a failing oneDNN helper throw instead of quietly using the built-in code
     */
    static MultiLayerConfiguration configuration(long seed, boolean allowFallback) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.XAVIER)
                .updater(new Nesterovs(0.01, 0.9))
                .list()
                .layer(new ConvolutionLayer.Builder(5, 5).nOut(6).padding(2, 2).activation(Activation.RELU)
                        .helperAllowFallback(allowFallback).name("conv1").build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .helperAllowFallback(allowFallback).name("pool1").build())
                .layer(new ConvolutionLayer.Builder(5, 5).nOut(16).activation(Activation.RELU)
                        .helperAllowFallback(allowFallback).name("conv2").build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .helperAllowFallback(allowFallback).name("pool2").build())
                .layer(new DenseLayer.Builder().nOut(120).activation(Activation.RELU).name("fc1").build())
                .layer(new DenseLayer.Builder().nOut(84).activation(Activation.RELU).name("fc2").build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).name("fc3").build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
    }

    static MultiLayerNetwork network(long seed, boolean allowFallback) {
        MultiLayerNetwork net = new MultiLayerNetwork(configuration(seed, allowFallback));
        net.init();
        return net;
    }

    /** Random [batch, 784] features in [0, 1) and one-hot labels, reproducible from the seed. */
    static INDArray[] randomBatch(long seed, int batch) {
        Nd4j.getRandom().setSeed(seed);
        INDArray features = Nd4j.rand(DataType.FLOAT, batch, 28 * 28);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, batch, 10);
        for (int i = 0; i < batch; i++) {
            labels.putScalar(i, (i * 7 + 3) % 10, 1f);
        }
        return new INDArray[]{features, labels};
    }
}
