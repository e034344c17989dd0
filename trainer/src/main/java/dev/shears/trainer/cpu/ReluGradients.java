package dev.shears.trainer.cpu;

import java.io.IOException;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.core.JsonGenerator;
import org.nd4j.shade.jackson.databind.JsonSerializer;
import org.nd4j.shade.jackson.databind.SerializerProvider;
import org.nd4j.shade.jackson.databind.annotation.JsonSerialize;
import org.nd4j.shade.jackson.databind.jsontype.TypeSerializer;

/**
 * ReLU's back-propagation in two vectorised passes instead of libnd4j's {@code relu_bp}.
 *
 * <p>DL4J's {@link ActivationReLU} back-propagates through the custom op {@code relu_bp}, whose CPU
 * kernel calls a {@code std::function} for every element. On LeNet-5 / Fashion-MNIST (batch 64, one
 * core) that op alone took 11 % of each training iteration (async-profiler, 2026-11-23): ReLU follows
 * both convolutions and both hidden dense layers. {@link Relu} computes the same gradient,
 * {@code dL/dz = z > 0 ? dL/da : 0}, as a scalar {@code step} on z followed by a multiplication,
 * both in place on z as DL4J's other activations do.
 *
 * <p>The swap is invisible outside training: {@link Relu} equals an {@link ActivationReLU}, prints as
 * {@code relu} and is written to JSON exactly as one, so checkpoints and published models still name
 * DL4J's class and load anywhere DL4J does (and load back as a plain ReLU, to be swapped again by
 * {@link #install}). Only the plain ReLU is swapped: a ReLU with a maximum, a threshold or a negative
 * slope keeps DL4J's path. The one difference in numbers: where z ≤ 0 and dL/da is not finite,
 * DL4J's gradient is 0 and this one is NaN, which only a broken step produces.
 */
public final class ReluGradients {
    private ReluGradients() {}

    /**
     * Gives every layer of {@code net} whose activation is the plain ReLU (activation layers included) the faster
     * back-propagation; idempotent. Returns how many layers use it.
     */
    public static int install(MultiLayerNetwork net) {
        return install(net.getLayers());
    }

    /** As {@link #install(MultiLayerNetwork)}, for every layer of a graph. */
    public static int install(ComputationGraph graph) {
        return install(graph.getLayers());
    }

    private static int install(Layer[] layers) {
        int installed = 0;
        for (Layer layer : layers) {
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            IActivation fn = conf instanceof BaseLayer base ? base.getActivationFn()
                    : conf instanceof ActivationLayer activation ? activation.getActivationFn() : null;
            if (fn instanceof Relu) {
                installed++;
            } else if (fn != null && fn.getClass() == ActivationReLU.class && plain((ActivationReLU) fn)) {
                if (conf instanceof BaseLayer base) {
                    base.setActivationFn(new Relu());
                } else {
                    ((ActivationLayer) conf).setActivationFn(new Relu());
                }
                installed++;
            }
        }
        return installed;
    }

    private static boolean plain(ActivationReLU relu) {
        return relu.getMax() == null && relu.getThreshold() == null && relu.getNegativeSlope() == null;
    }

    /** The plain ReLU, with back-propagation as above. */
    @JsonSerialize(using = WrittenAsReLU.class)
    public static final class Relu extends ActivationReLU {
        private static final long serialVersionUID = 1L;

        @Override
        public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
            assertShape(in, epsilon);
            Nd4j.getExecutioner().exec(new Step(in, in, 0.0));
            in.muli(epsilon);
            return new Pair<>(in, null);
        }
    }

    /** Writes a {@link Relu} exactly as DL4J writes a plain {@link ActivationReLU}, type id included. */
    static final class WrittenAsReLU extends JsonSerializer<Relu> {
        @Override
        public void serialize(Relu value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            provider.findValueSerializer(ActivationReLU.class).serialize(new ActivationReLU(), gen, provider);
        }

        @Override
        public void serializeWithType(Relu value, JsonGenerator gen, SerializerProvider provider,
                TypeSerializer typeSer) throws IOException {
            provider.findValueSerializer(ActivationReLU.class)
                    .serializeWithType(new ActivationReLU(), gen, provider, typeSer);
        }
    }
}
