package dev.shears.prune;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one forward pass on one example costs, for either model kind: FLOPs as 2 × multiply-adds of the
 * convolutions (plain, depthwise, separable: every weight used once per output position) and dense layers (every
 * weight once), counted from the layers' output sizes for the given input; batch normalisation (a scale and a
 * shift, 2 FLOPs per output element) apart; and parameters. Biases, activations and pooling are not counted, as
 * the usual tables do not; nor are layers of other kinds (recurrent, embeddings, deconvolutions), whose parameters
 * are still counted. {@link #nonZero} counts only non-zero weights (what sparse kernels could reach).
 *
 * @param flops 2 × multiply-adds of the convolution and dense layers
 * @param normalizationFlops 2 per output element of each batch normalisation
 * @param parameters every parameter (non-zero ones only, for {@link #nonZero})
 * @param layers per layer that has parameters or FLOPs, in the model's order
 */
public record ModelCost(long flops, long normalizationFlops, long parameters, List<Layer> layers) {

    /**
     * @param name the layer's name
     * @param flops its FLOPs (2 × multiply-adds, or 2 per element for a batch normalisation)
     * @param parameters its parameters
     */
    public record Layer(String name, long flops, long parameters) {
    }

    public ModelCost {
        layers = List.copyOf(layers);
    }

    /**
     * The cost of {@code model} on one example of {@code input}: a {@link MultiLayerNetwork} takes one input type, or
     * none when its first layer tells it (a dense layer's {@code nIn}, or the {@code convolutionalFlat} preprocessor
     * {@code setInputType} adds); a {@link ComputationGraph} takes one per network input.
     *
     * @throws IllegalArgumentException when the input types are missing or do not fit the model
     */
    public static ModelCost of(Model model, InputType... input) {
        return count(model, false, input);
    }

    /** As {@link #of}, counting only non-zero weights and parameters. */
    public static ModelCost nonZero(Model model, InputType... input) {
        return count(model, true, input);
    }

    private static ModelCost count(Model model, boolean nonZeroOnly, InputType... input) {
        List<Layer> layers = new ArrayList<>();
        long[] totals = new long[3];
        if (model instanceof MultiLayerNetwork net) {
            MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
            List<InputType> outputs = conf.getLayerActivationTypes(single(net, input));
            for (int i = 0; i < net.getnLayers(); i++) {
                org.deeplearning4j.nn.api.Layer layer = net.getLayer(i);
                add(layers, totals, dev.shears.prune.internal.Topology.layerName(layer.conf().getLayer(), i), layer,
                        outputs.get(i), nonZeroOnly);
            }
        } else if (model instanceof ComputationGraph graph) {
            if (input.length != graph.getConfiguration().getNetworkInputs().size()) {
                throw new IllegalArgumentException("the graph has " + graph.getConfiguration().getNetworkInputs().size()
                        + " inputs but " + input.length
                        + " input types were given (fix: one InputType per network input,"
                        + " in order, e.g. InputType.convolutional(28, 28, 1))");
            }
            Map<String, InputType> outputs = graph.getConfiguration().getLayerActivationTypes(input);
            for (org.deeplearning4j.nn.api.Layer layer : graph.getLayers()) {
                String name = layer.conf().getLayer().getLayerName();
                add(layers, totals, name, layer, outputs.get(name), nonZeroOnly);
            }
        } else {
            throw new IllegalArgumentException("model " + (model == null ? null : model.getClass().getName())
                    + " is neither a MultiLayerNetwork nor a ComputationGraph (fix: pass one of those)");
        }
        return new ModelCost(totals[0], totals[1], totals[2], layers);
    }

    private static void add(List<Layer> layers, long[] totals, String name, org.deeplearning4j.nn.api.Layer layer,
            InputType output, boolean nonZeroOnly) {
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        long weights = 0;
        long parameters = 0;
        for (Map.Entry<String, INDArray> e : layer.paramTable().entrySet()) {
            long n = count(e.getValue(), nonZeroOnly);
            parameters += n;
            boolean weight = e.getKey().equals("W") || e.getKey().equals("pW");
            weights += weight ? n : 0;
        }
        long flops = 0;
        boolean normalization = conf instanceof BatchNormalization;
        if (normalization) {
            flops = 2 * output.arrayElementsPerExample();
        } else if (conf instanceof ConvolutionLayer && !(conf instanceof Deconvolution2D)) {
            flops = 2 * weights * positions(output);
        } else if (conf.getClass() == DenseLayer.class || conf.getClass() == OutputLayer.class) {
            flops = 2 * weights;
        }
        if (flops == 0 && parameters == 0) {
            return;
        }
        totals[normalization ? 1 : 0] += flops;
        totals[2] += parameters;
        layers.add(new Layer(name, flops, parameters));
    }

    /** Output positions that each weight of a convolution is used at: height x width (x depth). */
    private static long positions(InputType output) {
        if (output instanceof InputType.InputTypeConvolutional c) {
            return c.getHeight() * c.getWidth();
        }
        if (output instanceof InputType.InputTypeRecurrent r) {
            return Math.max(1, r.getTimeSeriesLength());
        }
        if (output instanceof InputType.InputTypeConvolutional3D c) {
            return c.getDepth() * c.getHeight() * c.getWidth();
        }
        return 1;
    }

    private static long count(INDArray a, boolean nonZeroOnly) {
        if (!nonZeroOnly) {
            return a.length();
        }
        return a.length() - org.nd4j.linalg.factory.Nd4j.getExecutioner()
                .exec(new org.nd4j.linalg.api.ops.impl.reduce.longer.CountZero(a)).getLong(0);
    }

    /** The network's input type: the one given, or what its first layer says. */
    private static InputType single(MultiLayerNetwork net, InputType... input) {
        if (input.length == 1) {
            return input[0];
        }
        if (input.length > 1) {
            throw new IllegalArgumentException(input.length + " input types given for a MultiLayerNetwork"
                    + " (fix: give one, or none to infer it from the first layer)");
        }
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        if (conf.getInputPreProcess(0) instanceof FeedForwardToCnnPreProcessor flat) {
            return InputType.convolutionalFlat(flat.getInputHeight(), flat.getInputWidth(), flat.getNumChannels());
        }
        org.deeplearning4j.nn.conf.layers.Layer first = conf.getConf(0).getLayer();
        if (first instanceof FeedForwardLayer ff && !(first instanceof ConvolutionLayer) && ff.getNIn() > 0) {
            return InputType.feedForward(ff.getNIn());
        }
        throw new IllegalArgumentException("the network's first layer (" + first.getClass().getSimpleName()
                + ") does not tell its input's height and width (fix: pass its InputType, e.g."
                + " InputType.convolutional(28, 28, 1))");
    }
}
