package dev.shears.prune;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Small graphs with the structures dependency groups must follow; every parameter random, BN statistics too. */
final class Graphs {
    private Graphs() {}

    static ConvolutionLayer conv(int k, int out, int stride, boolean bias) {
        return new ConvolutionLayer.Builder(k, k).nOut(out).stride(stride, stride).hasBias(bias)
                .activation(Activation.IDENTITY).build();
    }

    static BatchNormalization bn() {
        return new BatchNormalization.Builder().useLogStd(false).activation(Activation.IDENTITY).build(); // DL4J's default is sigmoid
    }

    static ActivationLayer act(Activation a) {
        return new ActivationLayer.Builder().activation(a).build();
    }

    static OutputLayer out(int classes) {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes).activation(Activation.SOFTMAX)
                .build();
    }

    /**
     * stem (conv 3x3, 4, no bias) → bn → relu, block a: a1 (4) → bn → relu → a2 (4) → bn, + stem (identity
     * shortcut) → relu; block b: b1 (8, stride 2) → bn → relu → b2 (8) → bn, + proj (1x1, 8, stride 2) → bn → relu;
     * global average pooling, out (3). Input 2x8x8.
     */
    static ComputationGraph residual() {
        ComputationGraphConfiguration conf = base().graphBuilder()
                .addInputs("in")
                .addLayer("stem", conv(3, 4, 1, false), "in")
                .addLayer("stem_bn", bn(), "stem")
                .addLayer("stem_relu", act(Activation.RELU), "stem_bn")
                .addLayer("a1", conv(3, 4, 1, false), "stem_relu")
                .addLayer("a1_bn", bn(), "a1")
                .addLayer("a1_relu", act(Activation.RELU), "a1_bn")
                .addLayer("a2", conv(3, 4, 1, false), "a1_relu")
                .addLayer("a2_bn", bn(), "a2")
                .addVertex("a_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "a2_bn", "stem_relu")
                .addLayer("a_relu", act(Activation.RELU), "a_add")
                .addLayer("b1", conv(3, 8, 2, false), "a_relu")
                .addLayer("b1_bn", bn(), "b1")
                .addLayer("b1_relu", act(Activation.RELU), "b1_bn")
                .addLayer("b2", conv(3, 8, 1, false), "b1_relu")
                .addLayer("b2_bn", bn(), "b2")
                .addLayer("proj", conv(1, 8, 2, false), "a_relu")
                .addLayer("proj_bn", bn(), "proj")
                .addVertex("b_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "b2_bn", "proj_bn")
                .addLayer("b_relu", act(Activation.RELU), "b_add")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "b_relu")
                .addLayer("out", out(3), "gap")
                .setOutputs("out")
                .setInputTypes(InputType.convolutional(8, 8, 2))
                .build();
        return randomised(conf);
    }

    /**
     * A MobileNetV2 inverted residual: stem (conv 3x3, 8) → bn → relu6; expand (1x1, 16) → bn → relu6 → dw (3x3
     * depthwise) → bn → relu6 → project (1x1, 8) → bn, + stem; global average pooling, out (3). Input 3x8x8.
     */
    static ComputationGraph mobileBlock() {
        ComputationGraphConfiguration conf = base().graphBuilder()
                .addInputs("in")
                .addLayer("stem", conv(3, 8, 1, false), "in")
                .addLayer("stem_bn", bn(), "stem")
                .addLayer("stem_relu6", act(Activation.RELU6), "stem_bn")
                .addLayer("expand", conv(1, 16, 1, false), "stem_relu6")
                .addLayer("expand_bn", bn(), "expand")
                .addLayer("expand_relu6", act(Activation.RELU6), "expand_bn")
                .addLayer("dw", new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(1).hasBias(false)
                        .activation(Activation.IDENTITY).build(), "expand_relu6")
                .addLayer("dw_bn", bn(), "dw")
                .addLayer("dw_relu6", act(Activation.RELU6), "dw_bn")
                .addLayer("project", conv(1, 8, 1, false), "dw_relu6")
                .addLayer("project_bn", bn(), "project")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "project_bn", "stem_relu6")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "add")
                .addLayer("out", out(3), "gap")
                .setOutputs("out")
                .setInputTypes(InputType.convolutional(8, 8, 3))
                .build();
        return randomised(conf);
    }

    /**
     * Two branches concatenated twice, then flattened into a dense layer: a (3x3, 3) and b (3x3, 2) read the input;
     * m = [a, b]; c (1x1, 4) reads m; pool_c and pool_m (max 2x2) halve c and m to 4x4; m2 = [pool_c, pool_m]
     * (9 channels) is flattened (16 features a channel) into fc (6, ReLU), then out (3). Input 1x8x8.
     */
    static ComputationGraph concatenating() {
        ComputationGraphConfiguration conf = base().graphBuilder()
                .addInputs("in")
                .addLayer("a", new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.RELU).build(), "in")
                .addLayer("b", new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.TANH).build(), "in")
                .addVertex("m", new MergeVertex(), "a", "b")
                .addLayer("c", new ConvolutionLayer.Builder(1, 1).nOut(4).activation(Activation.RELU).build(), "m")
                .addLayer("pool_c", pool(), "c")
                .addLayer("pool_m", pool(), "m")
                .addVertex("m2", new MergeVertex(), "pool_c", "pool_m")
                .addLayer("fc", new DenseLayer.Builder().nOut(6).activation(Activation.RELU).build(), "m2")
                .addLayer("out", out(3), "fc")
                .setOutputs("out")
                .setInputTypes(InputType.convolutional(8, 8, 1))
                .build();
        return randomised(conf);
    }

    /** One convolution a (3x3, 4 channels, bias) on a 1x6x6 input, whose outputs are the network's. */
    static ComputationGraph convolutionAsOutput() {
        return randomised(base().graphBuilder()
                .addInputs("in")
                .addLayer("a", conv(3, 4, 1, true), "in")
                .setOutputs("a")
                .setInputTypes(InputType.convolutional(6, 6, 1))
                .build());
    }

    static SubsamplingLayer pool() {
        return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                .convolutionMode(ConvolutionMode.Truncate).build();
    }

    static NeuralNetConfiguration.Builder base() {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT)
                .convolutionMode(ConvolutionMode.Same);
    }

    /** Initialised, with every parameter (biases, BN shifts and statistics) drawn at random so nothing is trivial. */
    static ComputationGraph randomised(ComputationGraphConfiguration conf) {
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        org.nd4j.linalg.api.rng.Random rng = Nd4j.getRandomFactory().getNewRandomInstance(11);
        graph.paramTable().forEach((key, v) -> {
            INDArray r = Nd4j.rand(rng, v.shape()).castTo(v.dataType());
            if (key.endsWith("_var")) {
                v.assign(r.addi(0.5));
            } else {
                v.assign(r.subi(0.5));
            }
        });
        return graph;
    }

    /** A batch of {@code n} random examples for {@code graph}'s input, shaped [n, c, h, w]. */
    static INDArray batch(int n, int c, int h, int w) {
        return Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(3), n, c, h, w).castTo(DataType.FLOAT);
    }
}
