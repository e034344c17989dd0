package dev.shears.trainer.model;

import dev.shears.common.data.InputShape;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * The built-in graphs, as torchvision and the CIFAR papers write them, on DL4J layers: every convolution in
 * Truncate mode with PyTorch's explicit padding (so sizes and borders are PyTorch's), without a bias where a batch
 * normalisation follows; batch normalisation with PyTorch's eps 1e-5 and momentum 0.1 (DL4J's decay 0.9) and its
 * running variance kept as a variance; every activation explicit (DL4J's default is sigmoid). Layers are named as
 * PyTorch's modules would be, so that parameter names ({@code layer1.0.conv1.weight}) read the same.
 */
final class GraphArchitectures {
    private GraphArchitectures() {}

    /** torchvision's MobileNetV2 inverted-residual settings: expansion t, channels c, blocks n, first stride s. */
    private static final List<int[]> MOBILENETV2_SETTINGS = List.of(
            new int[]{1, 16, 1, 1}, new int[]{6, 24, 2, 2}, new int[]{6, 32, 3, 2}, new int[]{6, 64, 4, 2},
            new int[]{6, 96, 3, 1}, new int[]{6, 160, 3, 2}, new int[]{6, 320, 1, 1});
    /** Inputs no larger than this (CIFAR's 32, Fashion-MNIST's 28) keep their resolution in MobileNetV2's stem. */
    static final int SMALL_INPUT = 64;

    /** VGG's configurations A, B, D, E as multiples of the first stage's width; 0 is a 2x2 max pooling. */
    private static final java.util.Map<Integer, int[]> VGG_CONFIGS = java.util.Map.of(
            11, new int[]{1, 0, 2, 0, 4, 4, 0, 8, 8, 0, 8, 8, 0},
            13, new int[]{1, 1, 0, 2, 2, 0, 4, 4, 0, 8, 8, 0, 8, 8, 0},
            16, new int[]{1, 1, 0, 2, 2, 0, 4, 4, 4, 0, 8, 8, 8, 0, 8, 8, 8, 0},
            19, new int[]{1, 1, 0, 2, 2, 0, 4, 4, 4, 4, 0, 8, 8, 8, 8, 0, 8, 8, 8, 8, 0});

    /** A graph under construction: the builder and the name of the last vertex added. */
    private static final class Net {
        final GraphBuilder g;
        String last = "input";

        Net(NeuralNetConfiguration.Builder base, InputShape input) {
            g = base.graphBuilder().addInputs("input")
                    .setInputTypes(InputType.convolutional(input.height(), input.width(), input.channels()));
        }

        /** conv (no bias) → batch norm → activation (none for IDENTITY), each named {@code prefix + suffix}. */
        String convBn(String conv, String bn, String act, String from, int out, int kernel, int stride,
                Activation activation) {
            g.addLayer(conv, new ConvolutionLayer.Builder(kernel, kernel).nOut(out).stride(stride, stride)
                    .padding(kernel / 2, kernel / 2).convolutionMode(ConvolutionMode.Truncate).hasBias(false)
                    .activation(Activation.IDENTITY).build(), from);
            return bnAct(bn, act, conv, activation);
        }

        String bnAct(String bn, String act, String from, Activation activation) {
            g.addLayer(bn, new BatchNormalization.Builder().eps(1e-5).decay(0.9).useLogStd(false)
                    .activation(Activation.IDENTITY).build(), from);
            if (activation == Activation.IDENTITY) {
                return bn;
            }
            g.addLayer(act, new ActivationLayer.Builder().activation(activation).build(), bn);
            return act;
        }

        /** Global average pooling and the classifier: what both ResNet and MobileNetV2 end with. */
        ComputationGraph head(String from, int classes, double dropout, long seed) {
            g.addLayer("avgpool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), from);
            OutputLayer.Builder fc = new OutputLayer.Builder(LossFunction.MCXENT).nOut(classes)
                    .activation(Activation.SOFTMAX);
            if (dropout > 0) {
                fc.dropOut(1 - dropout); // DL4J takes the probability of keeping an input
            }
            g.addLayer("fc", fc.build(), "avgpool");
            g.setOutputs("fc");
            return PyTorchInit.initialised(new ComputationGraph(g.build()), seed);
        }
    }

    /** CIFAR ResNet (He et al. 2016, 6n+2 layers): see {@link Models#resnet}. */
    static ComputationGraph resnet(NeuralNetConfiguration.Builder base, int depth, int width, InputShape input,
            int classes, long seed) {
        int blocks = (depth - 2) / 6;
        Net net = new Net(base, input);
        String x = net.convBn("conv1", "bn1", "relu", "input", width, 3, 1, Activation.RELU);
        int channels = width;
        for (int stage = 1; stage <= 3; stage++) {
            int out = width << (stage - 1);
            for (int b = 0; b < blocks; b++) {
                int stride = stage > 1 && b == 0 ? 2 : 1;
                String p = "layer" + stage + "." + b + ".";
                String y = net.convBn(p + "conv1", p + "bn1", p + "relu1", x, out, 3, stride, Activation.RELU);
                y = net.convBn(p + "conv2", p + "bn2", null, y, out, 3, 1, Activation.IDENTITY);
                String shortcut = x;
                if (stride != 1 || channels != out) {
                    shortcut = net.convBn(p + "downsample.0", p + "downsample.1", null, x, out, 1, stride,
                            Activation.IDENTITY);
                }
                net.g.addVertex(p + "add", new ElementWiseVertex(ElementWiseVertex.Op.Add), y, shortcut);
                net.g.addLayer(p + "relu", new ActivationLayer.Builder().activation(Activation.RELU).build(),
                        p + "add");
                x = p + "relu";
                channels = out;
            }
        }
        return net.head(x, classes, 0, seed);
    }

    /** torchvision's MobileNetV2: see {@link Models#mobilenetv2}. */
    static ComputationGraph mobilenetv2(NeuralNetConfiguration.Builder base, double widthMultiplier, InputShape input,
            int classes, long seed) {
        boolean small = Math.min(input.height(), input.width()) <= SMALL_INPUT;
        Net net = new Net(base, input);
        int channels = divisible(32 * widthMultiplier);
        String x = net.convBn("features.0.0", "features.0.1", "features.0.2", "input", channels, 3, small ? 1 : 2,
                Activation.RELU6);
        int index = 1;
        for (int s = 0; s < MOBILENETV2_SETTINGS.size(); s++) {
            int[] setting = MOBILENETV2_SETTINGS.get(s);
            int out = divisible(setting[1] * widthMultiplier);
            for (int b = 0; b < setting[2]; b++) {
                int stride = b > 0 || (small && s == 1) ? 1 : setting[3];
                x = invertedResidual(net, "features." + index++ + ".", x, channels, out, stride, setting[0]);
                channels = out;
            }
        }
        int last = divisible(1280 * Math.max(1.0, widthMultiplier));
        String p = "features." + index + ".";
        x = net.convBn(p + "0", p + "1", p + "2", x, last, 1, 1, Activation.RELU6);
        return net.head(x, classes, 0.2, seed);
    }

    private static String invertedResidual(Net net, String p, String from, int in, int out, int stride, int expansion) {
        int hidden = in * expansion;
        String x = from;
        int i = 0;
        if (expansion != 1) {
            x = net.convBn(p + "conv." + i, p + "conv." + (i + 1), p + "conv." + (i + 2), x, hidden, 1, 1,
                    Activation.RELU6);
            i += 3;
        }
        net.g.addLayer(p + "conv." + i, new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(1)
                .stride(stride, stride).padding(1, 1).convolutionMode(ConvolutionMode.Truncate).hasBias(false)
                .activation(Activation.IDENTITY).build(), x);
        x = net.bnAct(p + "conv." + (i + 1), p + "conv." + (i + 2), p + "conv." + i, Activation.RELU6);
        i += 3;
        x = net.convBn(p + "conv." + i, p + "conv." + (i + 1), null, x, out, 1, 1, Activation.IDENTITY);
        if (stride == 1 && in == out) {
            net.g.addVertex(p + "add", new ElementWiseVertex(ElementWiseVertex.Op.Add), x, from);
            x = p + "add";
        }
        return x;
    }

    /** torchvision's {@code _make_divisible(v, 8)}: the nearest multiple of 8, at least 8, not below 90 % of v. */
    static int divisible(double v) {
        int n = Math.max(8, (int) (v + 4) / 8 * 8);
        return n < 0.9 * v ? n + 8 : n;
    }

    /** A plain VGG: see {@link Models#vgg}. */
    static ComputationGraph vgg(NeuralNetConfiguration.Builder base, int depth, int width, InputShape input,
            int classes, long seed) {
        Net net = new Net(base, input);
        String x = "input";
        int conv = 0;
        int pool = 0;
        long h = input.height();
        long w = input.width();
        for (int m : VGG_CONFIGS.get(depth)) {
            if (m == 0) {
                if (h >= 2 && w >= 2) {
                    net.g.addLayer("pool" + ++pool, new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                            .kernelSize(2, 2).stride(2, 2).convolutionMode(ConvolutionMode.Truncate).build(), x);
                    x = "pool" + pool;
                    h /= 2;
                    w /= 2;
                }
                continue;
            }
            conv++;
            x = net.convBn("conv" + conv, "bn" + conv, "relu" + conv, x, width * m, 3, 1, Activation.RELU);
        }
        net.g.addLayer("fc", new OutputLayer.Builder(LossFunction.MCXENT).nOut(classes)
                .activation(Activation.SOFTMAX).build(), x); // DL4J flattens [c, h, w] channel-major, as torch.flatten
        net.g.setOutputs("fc");
        return PyTorchInit.initialised(new ComputationGraph(net.g.build()), seed);
    }
}
