package dev.shears.prune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns structured sparsity into a physically smaller network: output channels of convolution and
 * dense layers whose weights are all zero are removed, together with the matching inputs of the
 * layer that consumes them (and the matching channels of batch normalisation in between). A removed
 * channel still outputs a constant (its activated bias); where the consumer is a dense layer or an
 * unpadded convolution that constant is folded into the consumer's bias, so the smaller network
 * computes the same function. Where it cannot be folded (a padded convolution after a channel whose
 * constant is not zero), the channel stays. A layer whose channels are all pruned keeps its first one
 * (DL4J layers have at least one output), so the network still computes its (now constant) function.
 *
 * <p>Supports sequential {@link MultiLayerNetwork}s of 2-D convolution (NCHW), subsampling, batch
 * normalisation, activation, dropout, dense and output layers; a channel feeding any other layer is
 * kept. The network's final outputs are never removed. The given network is not modified.
 */
public final class Compaction {

    /**
     * @param network the smaller network
     * @param keptChannels per compacted layer (by name), the indices of the output channels kept
     * @param parametersBefore parameter count before
     * @param parametersAfter parameter count after
     */
    public record Result(MultiLayerNetwork network, Map<String, int[]> keptChannels, long parametersBefore,
            long parametersAfter) {}

    private Compaction() {}

    /** Builds the compacted copy of {@code network}. */
    public static Result compact(MultiLayerNetwork network) {
        MultiLayerConfiguration conf = network.getLayerWiseConfigurations().clone();
        int n = network.getnLayers();
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            layers.add(conf.getConf(i).getLayer());
        }
        // Working copies of every parameter, in DL4J shapes.
        List<Map<String, INDArray>> params = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, INDArray> p = new LinkedHashMap<>();
            network.getLayer(i).paramTable().forEach((k, v) -> p.put(k, v.dup()));
            params.add(p);
        }
        Map<String, int[]> kept = new LinkedHashMap<>();

        for (int producer = 0; producer < n; producer++) {
            Layer layer = layers.get(producer);
            if (!isProducer(layer) || layer instanceof BaseOutputLayer) {
                continue;
            }
            int consumer = nextProducer(layers, producer);
            if (consumer < 0) {
                continue;
            }
            INDArray w = params.get(producer).get("W");
            int channels = (int) ((FeedForwardLayer) layer).getNOut();
            boolean conv = layer instanceof ConvolutionLayer;
            double[] constant = new double[channels];
            boolean[] keep = new boolean[channels];
            INDArray b = params.get(producer).get("b");
            IActivation activation = ((org.deeplearning4j.nn.conf.layers.BaseLayer) layer).getActivationFn();
            for (int c = 0; c < channels; c++) {
                INDArray channelWeights = conv ? w.slice(c) : w.getColumn(c);
                keep[c] = channelWeights.amaxNumber().doubleValue() != 0;
                double bias = b == null ? 0 : b.getDouble(c);
                constant[c] = activate(activation, bias);
            }
            // Pass-through layers between producer and consumer transform the constants.
            boolean supported = true;
            for (int i = producer + 1; i < consumer; i++) {
                Layer mid = layers.get(i);
                if (mid instanceof BatchNormalization bn) {
                    INDArray gamma = params.get(i).get("gamma");
                    INDArray beta = params.get(i).get("beta");
                    INDArray mean = params.get(i).get("mean");
                    INDArray var = params.get(i).get("var");
                    INDArray log10std = params.get(i).get("log10stdev");
                    for (int c = 0; c < channels; c++) {
                        double g = gamma == null ? bn.getGamma() : gamma.getDouble(c);
                        double be = beta == null ? bn.getBeta() : beta.getDouble(c);
                        double std = var != null ? Math.sqrt(var.getDouble(c) + bn.getEps())
                                : Math.pow(10, log10std.getDouble(c));
                        constant[c] = g * (constant[c] - mean.getDouble(c)) / std + be;
                    }
                } else if (mid instanceof ActivationLayer act) {
                    for (int c = 0; c < channels; c++) {
                        constant[c] = activate(act.getActivationFn(), constant[c]);
                    }
                } else if (mid instanceof SubsamplingLayer pool) {
                    boolean padded = pool.getConvolutionMode() == ConvolutionMode.Same
                            || Arrays.stream(pool.getPadding()).anyMatch(p -> p != 0);
                    if (padded) {
                        for (int c = 0; c < channels; c++) {
                            keep[c] |= constant[c] != 0; // a padded border would see other values
                        }
                    }
                } else if (!(mid instanceof DropoutLayer)) {
                    supported = false;
                }
            }
            Layer next = layers.get(consumer);
            InputPreProcessor pre = conf.getInputPreProcess(consumer);
            if (!supported || !compatible(layer, next, pre)) {
                continue;
            }
            if (next instanceof ConvolutionLayer nc && (nc.getConvolutionMode() == ConvolutionMode.Same
                    || Arrays.stream(nc.getPadding()).anyMatch(p -> p != 0))) {
                for (int c = 0; c < channels; c++) {
                    keep[c] |= constant[c] != 0;
                }
            }
            if (allTrue(keep)) {
                continue;
            }
            if (indices(keep).length == 0) {
                keep[0] = true; // a layer needs a channel: this one outputs its constant through the consumer as before
            }
            int[] keptIdx = indices(keep);
            kept.put(layer.getLayerName() == null ? Integer.toString(producer) : layer.getLayerName(), keptIdx);

            // Fold the constants of removed channels into the consumer's bias, then drop its inputs.
            Map<String, INDArray> cp = params.get(consumer);
            INDArray cw = cp.get("W");
            INDArray cb = cp.get("b");
            int spatial = 1;
            if (pre instanceof CnnToFeedForwardPreProcessor flat) {
                if (flat.getFormat() != CNN2DFormat.NCHW) {
                    continue;
                }
                spatial = (int) (flat.getInputHeight() * flat.getInputWidth());
            }
            List<Integer> keepRows = new ArrayList<>();
            for (int c = 0; c < channels; c++) {
                if (next instanceof ConvolutionLayer) {
                    if (!keep[c] && constant[c] != 0) {
                        // out[o] += v * sum over kernel of W[o, c, :, :]
                        INDArray sum = cw.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                                org.nd4j.linalg.indexing.NDArrayIndex.point(c)).sum(1, 2);
                        cb.addi(sum.reshape(cb.shape()).mul(constant[c]));
                    }
                } else {
                    for (int s = 0; s < spatial; s++) {
                        int row = c * spatial + s;
                        if (keep[c]) {
                            keepRows.add(row);
                        } else if (constant[c] != 0) {
                            cb.addi(cw.getRow(row).reshape(cb.shape()).mul(constant[c]));
                        }
                    }
                }
            }
            // Producer: keep output channels.
            Map<String, INDArray> pp = params.get(producer);
            pp.put("W", conv ? select(w, 0, keptIdx) : select(w, 1, keptIdx));
            if (b != null) {
                pp.put("b", select(b.reshape(b.length()), 0, keptIdx).reshape(bShape(b, keptIdx.length)));
            }
            ((FeedForwardLayer) layer).setNOut(keptIdx.length);
            for (int i = producer + 1; i < consumer; i++) {
                Layer mid = layers.get(i);
                if (mid instanceof BatchNormalization bn) {
                    Map<String, INDArray> bp = params.get(i);
                    for (Map.Entry<String, INDArray> e : bp.entrySet()) {
                        INDArray v = e.getValue();
                        e.setValue(select(v.reshape(v.length()), 0, keptIdx).reshape(bShape(v, keptIdx.length)));
                    }
                    bn.setNIn(keptIdx.length);
                    bn.setNOut(keptIdx.length);
                } else if (mid instanceof FeedForwardLayer ff && ff.getNOut() == channels) {
                    ff.setNIn(keptIdx.length);
                    ff.setNOut(keptIdx.length);
                }
            }
            // Consumer: drop the inputs.
            if (next instanceof ConvolutionLayer) {
                cp.put("W", select(cw, 1, keptIdx));
                ((FeedForwardLayer) next).setNIn(keptIdx.length);
            } else {
                int[] rows = keepRows.stream().mapToInt(Integer::intValue).toArray();
                cp.put("W", select(cw, 0, rows));
                ((FeedForwardLayer) next).setNIn(rows.length);
                if (pre instanceof CnnToFeedForwardPreProcessor flat) {
                    conf.getInputPreProcessors().put(consumer, new CnnToFeedForwardPreProcessor(
                            flat.getInputHeight(), flat.getInputWidth(), keptIdx.length, flat.getFormat()));
                }
            }
        }

        MultiLayerNetwork smaller = new MultiLayerNetwork(conf);
        smaller.init();
        for (int i = 0; i < n; i++) {
            for (Map.Entry<String, INDArray> e : params.get(i).entrySet()) {
                INDArray target = smaller.getLayer(i).getParam(e.getKey());
                target.assign(e.getValue().reshape(target.shape()));
            }
        }
        return new Result(smaller, kept, network.numParams(), smaller.numParams());
    }

    private static boolean isProducer(Layer layer) {
        return (layer instanceof ConvolutionLayer && layer.getClass() == ConvolutionLayer.class)
                || layer instanceof DenseLayer || layer instanceof BaseOutputLayer;
    }

    /**
     * Whether the channels {@code producer} outputs can be dropped from {@code consumer}'s input: a
     * plain NCHW convolution feeding another one or (flattened) a dense layer, or a dense layer
     * feeding a dense or output layer.
     */
    private static boolean compatible(Layer producer, Layer consumer, InputPreProcessor pre) {
        if (producer instanceof ConvolutionLayer conv) {
            if (!plainConv(conv)) {
                return false;
            }
            return consumer instanceof ConvolutionLayer next ? plainConv(next)
                    : pre instanceof CnnToFeedForwardPreProcessor;
        }
        return !(consumer instanceof ConvolutionLayer);
    }

    private static boolean plainConv(ConvolutionLayer layer) {
        return layer.getClass() == ConvolutionLayer.class && layer.getCnn2dDataFormat() == CNN2DFormat.NCHW;
    }

    private static int nextProducer(List<Layer> layers, int from) {
        for (int i = from + 1; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (isProducer(l)) {
                return i;
            }
            if (!(l instanceof SubsamplingLayer || l instanceof BatchNormalization || l instanceof ActivationLayer
                    || l instanceof DropoutLayer)) {
                return -1;
            }
        }
        return -1;
    }

    private static double activate(IActivation activation, double x) {
        INDArray v = Nd4j.scalar(DataType.FLOAT, (float) x).reshape(1, 1);
        return activation.getActivation(v, false).getDouble(0);
    }

    private static boolean allTrue(boolean[] b) {
        for (boolean x : b) {
            if (!x) {
                return false;
            }
        }
        return true;
    }

    private static int[] indices(boolean[] b) {
        return java.util.stream.IntStream.range(0, b.length).filter(i -> b[i]).toArray();
    }

    private static long[] bShape(INDArray original, int length) {
        return original.rank() == 1 ? new long[] {length} : new long[] {1, length};
    }

    /** The slices of {@code a} along {@code dim} at {@code idx}, as a new C-order array. */
    private static INDArray select(INDArray a, int dim, int[] idx) {
        List<INDArray> parts = new ArrayList<>();
        for (int i : idx) {
            org.nd4j.linalg.indexing.INDArrayIndex[] index = new org.nd4j.linalg.indexing.INDArrayIndex[a.rank()];
            for (int d = 0; d < a.rank(); d++) {
                index[d] = d == dim ? org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1)
                        : org.nd4j.linalg.indexing.NDArrayIndex.all();
            }
            parts.add(a.get(index));
        }
        return Nd4j.concat(dim, parts.toArray(new INDArray[0])).dup('c');
    }
}
