package dev.shears.trainer.model;

import java.util.SplittableRandom;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * PyTorch's default initialisation, {@code reset_parameters} of {@code nn.Conv2d} and {@code nn.Linear}:
 * weights {@code kaiming_uniform_(a=sqrt(5))}, which is uniform in ±1/sqrt(fan_in), and biases uniform in the same
 * bounds, fan_in being a weight's inputs per output ({@code in/groups · kh · kw}: only {@code kh · kw} for a
 * depthwise convolution); batch normalisation's scale 1, shift 0, running mean 0 and variance 1. DL4J's own
 * initialisers take a depthwise convolution's fan-in as {@code in · kh · kw}, so the weights are drawn here, from
 * one seeded stream, layer by layer in the graph's order.
 */
final class PyTorchInit {
    private PyTorchInit() {}

    /** {@code graph}, initialised, with PyTorch's initial values drawn from {@code seed}. */
    static ComputationGraph initialised(ComputationGraph graph, long seed) {
        graph.init();
        SplittableRandom random = new SplittableRandom(seed);
        for (Layer layer : graph.getLayers()) {
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            if (conf instanceof BatchNormalization) {
                layer.getParam("gamma").assign(1);
                layer.getParam("beta").assign(0);
                layer.getParam("mean").assign(0);
                layer.getParam("var").assign(1);
            } else if (conf instanceof SeparableConvolution2D sep) {
                INDArray dw = layer.getParam("W"); // [multiplier, in, kh, kw]
                INDArray pw = layer.getParam("pW"); // [out, in · multiplier, 1, 1]
                uniform(dw, dw.size(2) * dw.size(3), random);
                uniform(pw, pw.size(1), random);
                uniform(layer.getParam("b"), pw.size(1), random);
            } else if (conf instanceof DepthwiseConvolution2D) {
                INDArray w = layer.getParam("W"); // [kh, kw, in, multiplier]
                uniform(w, w.size(0) * w.size(1), random);
                uniform(layer.getParam("b"), w.size(0) * w.size(1), random);
            } else if (conf instanceof ConvolutionLayer) {
                INDArray w = layer.getParam("W"); // [out, in, kh, kw]
                uniform(w, w.length() / w.size(0), random);
                uniform(layer.getParam("b"), w.length() / w.size(0), random);
            } else if (conf instanceof FeedForwardLayer) {
                INDArray w = layer.getParam("W"); // [in, out]
                uniform(w, w == null ? 0 : w.size(0), random);
                uniform(layer.getParam("b"), w == null ? 0 : w.size(0), random);
            }
        }
        return graph;
    }

    /** Fills {@code param} (when present) uniformly in ±1/sqrt(fanIn). */
    private static void uniform(INDArray param, long fanIn, SplittableRandom random) {
        if (param == null) {
            return;
        }
        double bound = 1 / Math.sqrt(fanIn);
        float[] values = new float[Math.toIntExact(param.length())];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        param.assign(Nd4j.create(values, param.shape(), 'c'));
    }
}
