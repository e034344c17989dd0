package dev.shears.trainer.cpu;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.multilayer.LayerReplacement;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Dense layers that keep their pre-activations from the training forward pass for back-propagation, as DL4J's
 * convolution layers do under {@link CacheMode#DEVICE}.
 *
 * <p>DL4J 1.0.0-M2.1's dense layers compute {@code z = x·W + b} again in back-propagation, two more ND4J ops per layer
 * and iteration. {@link #install} puts in place of each plain dense layer a subclass of DL4J's own class that, in a
 * training forward pass where DL4J's forward-cache workspace is open (a network with a cache mode other than
 * {@code NONE}, in {@code fit} and {@code computeGradientAndScore}), keeps a copy of {@code z} there, and hands it to
 * the back-propagation that follows, once (DL4J's activations overwrite it); without a kept copy for the layer's
 * current input it computes {@code z} as DL4J does. The recomputation gave the same bits, so the numbers are DL4J's
 * to the bit. Like DL4J's convolution cache it assumes that back-propagation follows the forward pass it belongs to,
 * as DL4J's training does. Nothing else changes: the replacement shares the layer's configuration, parameters,
 * gradient views and updater state, a checkpoint or a published model names DL4J's classes, and a layer with layer
 * normalisation, weight noise or dropout keeps DL4J's. (Output layers are left alone: their loss recomputes {@code z}
 * for the score after back-propagation, where no forward pass would renew a kept copy.) Like DL4J's layers, one
 * network must not run on two threads at once.
 */
public final class CachedPreOutputs {
    private CachedPreOutputs() {}

    /**
     * Replaces every plain dense layer of {@code net} by one that keeps its pre-activations; idempotent. Call it after
     * every (re)build of the network's layers (a clone or a deserialised network has DL4J's own).
     *
     * @return how many layers keep them
     */
    public static int install(MultiLayerNetwork net) {
        Layer[] layers = net.getLayers();
        int installed = 0;
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            if (layer instanceof Dense) {
                installed++;
            } else if (layer.getClass() == DenseLayer.class && plain((DenseLayer) layer)) {
                LayerReplacement.replace(net, i, new Dense((DenseLayer) layer));
                installed++;
            }
        }
        return installed;
    }

    /** Whether {@code layer} keeps its pre-activations. */
    public static boolean installed(Layer layer) {
        return layer instanceof Dense;
    }

    /** How many times {@code layer} handed out its kept pre-activations instead of computing them again. */
    static long reuses(Layer layer) {
        return layer instanceof Dense d ? d.reuses : 0;
    }

    private static boolean plain(DenseLayer layer) {
        BaseLayer conf = (BaseLayer) layer.conf().getLayer();
        return conf.getWeightNoise() == null && conf.getIDropout() == null && !layer.hasLayerNorm();
    }

    /** DL4J's dense layer, back-propagating from the kept pre-activations. */
    static final class Dense extends DenseLayer {
        private static final long serialVersionUID = 1L;
        private INDArray kept;
        private INDArray keptFor;
        private long reuses;

        /** Takes {@code layer}'s place: its configuration, parameters, gradient views, listeners and counters. */
        Dense(DenseLayer layer) {
            super(layer.conf(), layer.getParam(DefaultParamInitializer.WEIGHT_KEY).dataType());
            LayerReplacement.takeState(layer, this);
        }

        @Override
        protected Pair<INDArray, INDArray> preOutputWithPreNorm(boolean training, boolean forBackprop,
                LayerWorkspaceMgr workspaceMgr) {
            if (forBackprop && kept != null && keptFor == input) {
                INDArray z = kept;
                kept = null; // back-propagation overwrites it
                keptFor = null;
                reuses++;
                return new Pair<>(z, z);
            }
            Pair<INDArray, INDArray> z = super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
            kept = null;
            keptFor = null;
            if (training && !forBackprop && cacheMode != null && cacheMode != CacheMode.NONE
                    && workspaceMgr.hasConfiguration(ArrayType.FF_CACHE)
                    && workspaceMgr.isWorkspaceOpen(ArrayType.FF_CACHE)) {
                try (MemoryWorkspace cache = workspaceMgr.notifyScopeBorrowed(ArrayType.FF_CACHE)) {
                    kept = z.getFirst().unsafeDuplication();
                }
                keptFor = input;
            }
            return z;
        }
    }
}
