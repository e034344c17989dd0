package dev.shears.prune;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The parameters of a model in PyTorch layout: views into the model's own memory, so writing a
 * view writes the model. Dense weights, {@code [nIn, nOut]} in Fortran order in DL4J, appear as their
 * transpose {@code [out, in]} in C order: the same memory PyTorch's {@code Linear.weight} would have.
 */
final class ParameterTable {
    private final List<PrunableParameter> parameters = new ArrayList<>();
    private final Map<String, PrunableParameter> byName = new LinkedHashMap<>();
    private final Map<String, INDArray> views = new LinkedHashMap<>();
    private final Map<String, java.util.function.UnaryOperator<INDArray>> toTorch = new LinkedHashMap<>();
    private final Map<String, INDArray> modelArrays = new LinkedHashMap<>();
    private final Map<String, PrunableParameter> byLayerKey = new LinkedHashMap<>();

    static ParameterTable of(MultiLayerNetwork net) {
        ParameterTable table = new ParameterTable();
        for (int i = 0; i < net.getnLayers(); i++) {
            Layer layer = net.getLayer(i);
            String name = layer.conf().getLayer().getLayerName();
            table.addLayer(name == null ? Integer.toString(i) : name, Integer.toString(i), layer);
        }
        return table;
    }

    static ParameterTable of(ComputationGraph graph) {
        ParameterTable table = new ParameterTable();
        for (Layer layer : graph.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            table.addLayer(name, name, layer);
        }
        return table;
    }

    /** Tensors already in PyTorch layout, keyed {@code module.attribute}. */
    static ParameterTable of(Map<String, INDArray> tensors) {
        ParameterTable table = new ParameterTable();
        tensors.forEach((name, tensor) -> {
            int dot = name.lastIndexOf('.');
            String layer = dot < 0 ? "" : name.substring(0, dot);
            String attribute = dot < 0 ? name : name.substring(dot + 1);
            LayerKind kind = tensor.rank() >= 3 ? LayerKind.CONVOLUTION : tensor.rank() == 2 ? LayerKind.DENSE
                    : LayerKind.OTHER;
            table.add(new PrunableParameter(name, name, layer, kind, attribute, tensor.shape()), tensor, tensor,
                    a -> a);
        });
        return table;
    }

    private void addLayer(String layerName, String keyPrefix, Layer layer) {
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        LayerKind kind = kindOf(conf);
        for (Map.Entry<String, INDArray> e : layer.paramTable().entrySet()) {
            String key = e.getKey();
            INDArray param = e.getValue();
            String attribute = attribute(conf, key);
            java.util.function.UnaryOperator<INDArray> layout = a -> torchView(conf, key, a);
            INDArray view = layout.apply(param);
            PrunableParameter p = new PrunableParameter(layerName + "." + attribute, keyPrefix + "_" + key, layerName,
                    kind, attribute, view.shape());
            add(p, view, param, layout);
            byLayerKey.put(layerName + "\u0000" + key, p);
        }
    }

    private void add(PrunableParameter p, INDArray view, INDArray modelArray,
            java.util.function.UnaryOperator<INDArray> layout) {
        toTorch.put(p.name(), layout);
        modelArrays.put(p.name(), modelArray);
        parameters.add(p);
        byName.put(p.name(), p);
        byName.putIfAbsent(p.key(), p);
        views.put(p.name(), view);
    }

    private static LayerKind kindOf(org.deeplearning4j.nn.conf.layers.Layer conf) {
        if (conf instanceof SeparableConvolution2D) {
            return LayerKind.SEPARABLE_CONVOLUTION;
        }
        if (conf instanceof DepthwiseConvolution2D) {
            return LayerKind.DEPTHWISE_CONVOLUTION;
        }
        if (conf instanceof ConvolutionLayer || conf.getClass().getSimpleName().contains("Convolution")) {
            return LayerKind.CONVOLUTION;
        }
        if (conf instanceof BatchNormalization) {
            return LayerKind.NORMALIZATION;
        }
        if (conf instanceof BaseRecurrentLayer) {
            return LayerKind.RECURRENT;
        }
        if (conf instanceof EmbeddingLayer || conf instanceof EmbeddingSequenceLayer) {
            return LayerKind.EMBEDDING;
        }
        if (conf instanceof FeedForwardLayer) {
            return LayerKind.DENSE;
        }
        return LayerKind.OTHER;
    }

    private static String attribute(org.deeplearning4j.nn.conf.layers.Layer conf, String key) {
        if (conf instanceof BatchNormalization) {
            switch (key) {
                case "gamma" :
                    return "weight";
                case "beta" :
                    return "bias";
                case "mean" :
                    return "running_mean";
                case "var" :
                    return "running_var";
                default :
                    return key;
            }
        }
        if (conf instanceof BaseRecurrentLayer) {
            switch (key) {
                case "W" :
                    return "weight_ih";
                case "RW" :
                    return "weight_hh";
                case "b" :
                    return "bias";
                default :
                    return key;
            }
        }
        if (conf instanceof SeparableConvolution2D) {
            switch (key) {
                case "W" :
                    return "depthwise_weight";
                case "pW" :
                    return "pointwise_weight";
                case "b" :
                    return "bias";
                default :
                    return key;
            }
        }
        switch (key) {
            case "W" :
                return "weight";
            case "b" :
                return "bias";
            default :
                return key;
        }
    }

    /** The parameter as PyTorch would lay it out, sharing the model's memory. */
    private static INDArray torchView(org.deeplearning4j.nn.conf.layers.Layer conf, String key, INDArray param) {
        if ("b".equals(key) || param.rank() == 1 || conf instanceof BatchNormalization) {
            return param.rank() == 1 ? param : param.reshape(param.length());
        }
        if (conf instanceof Convolution1DLayer && param.rank() == 4 && param.size(3) == 1) {
            return param.reshape('c', new long[]{param.size(0), param.size(1), param.size(2)});
        }
        if (conf instanceof SeparableConvolution2D && "W".equals(key) && param.rank() == 4) {
            // DL4J [multiplier, nIn, kH, kW] -> [nIn, multiplier, kH, kW], as for DepthwiseConvolution2D.
            return param.permute(1, 0, 2, 3);
        }
        if (conf instanceof DepthwiseConvolution2D && param.rank() == 4) {
            // DL4J [kH, kW, nIn, multiplier] -> [nIn, multiplier, kH, kW]: dim 0 is the input channel.
            return param.permute(2, 3, 0, 1);
        }
        if (param.rank() == 2 && !(conf instanceof EmbeddingLayer || conf instanceof EmbeddingSequenceLayer)
                && (conf instanceof FeedForwardLayer)) {
            // DL4J [nIn, nOut] -> PyTorch [out, in] (same memory when Fortran-ordered).
            return param.transpose();
        }
        return param;
    }

    List<PrunableParameter> parameters() {
        return parameters;
    }

    /** The parameter named {@code name} (PyTorch-style) or keyed {@code name} (DL4J's). */
    PrunableParameter get(String name) {
        PrunableParameter p = byName.get(name);
        if (p == null) {
            List<String> names = parameters.stream().map(PrunableParameter::name).toList();
            throw new IllegalArgumentException("no parameter '" + name + "' in this model (fix: use one of "
                    + (names.size() > 12 ? names.subList(0, 12) + " ... (" + names.size() + " in all)" : names)
                    + ", or DL4J's keys such as 0_W)");
        }
        return p;
    }

    /** The parameter DL4J keys {@code key} in layer {@code layer} ({@code W} of {@code conv1}), or null. */
    PrunableParameter find(String layer, String key) {
        return byLayerKey.get(layer + "\u0000" + key);
    }

    boolean contains(String name) {
        return byName.containsKey(name);
    }

    INDArray view(PrunableParameter p) {
        return views.get(p.name());
    }

    /**
     * {@code torchLayout} (a tensor of the parameter's PyTorch shape) rearranged into a new array of
     * the model's own shape and memory order, so that it lines up element for element with the
     * model's parameter, its gradient and its updater state.
     */
    INDArray toModelLayout(PrunableParameter p, INDArray torchLayout) {
        INDArray model = modelArrays.get(p.name());
        INDArray result = org.nd4j.linalg.factory.Nd4j.create(model.dataType(), model.shape(), model.ordering());
        toTorch.get(p.name()).apply(result).assign(torchLayout);
        return result;
    }
}
