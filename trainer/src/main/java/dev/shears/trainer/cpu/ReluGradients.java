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
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.core.JsonGenerator;
import org.nd4j.shade.jackson.databind.JsonSerializer;
import org.nd4j.shade.jackson.databind.SerializerProvider;
import org.nd4j.shade.jackson.databind.annotation.JsonSerialize;
import org.nd4j.shade.jackson.databind.jsontype.TypeSerializer;

/**
 * ReLU's and ReLU6's back-propagation in vectorised passes instead of libnd4j's {@code relu_bp} and
 * {@code relu6_bp}.
 *
 * <p>DL4J's {@link ActivationReLU} back-propagates through the custom op {@code relu_bp}, whose CPU
 * kernel calls a {@code std::function} for every element. On LeNet-5 / Fashion-MNIST (batch 64, one
 * core) that op alone took 11 % of each training iteration (async-profiler, 2026-11-23): ReLU follows
 * both convolutions and both hidden dense layers. {@link Relu} computes the same gradient,
 * {@code dL/dz = z > 0 ? dL/da : 0}, as a scalar {@code step} on z followed by a multiplication,
 * both in place on z as DL4J's other activations do. {@link Relu6} does the same for MobileNet's ReLU6.
 *
 * <p>The swap is invisible outside training: {@link Relu} equals an {@link ActivationReLU}, prints as
 * {@code relu} and is written to JSON exactly as one ({@link Relu6} likewise as {@code relu6}), so checkpoints and
 * published models still name DL4J's class and load anywhere DL4J does (and load back as DL4J's, to be swapped again
 * by {@link #install}). Only the plain ReLU is swapped: a ReLU with a maximum, a threshold or a negative
 * slope keeps DL4J's path. The one difference in numbers: where the gradient is 0 (z ≤ 0; for ReLU6 also z ≥ 6) and
 * dL/da is not finite, DL4J's gradient is 0 and this one is NaN, which only a broken step produces; and where it is 0
 * and dL/da is negative, this one is -0.0 (a product) and DL4J's +0.0, which no sum or update tells apart.
 */
public final class ReluGradients {
    private ReluGradients() {}

    /**
     * Gives every layer of {@code net} whose activation is the plain ReLU or ReLU6 (activation layers included) the
     * faster back-propagation; idempotent. Returns how many layers use it.
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
            IActivation faster = fn == null ? null
                    : fn.getClass() == ActivationReLU.class && plain((ActivationReLU) fn) ? new Relu()
                    : fn.getClass() == ActivationReLU6.class ? new Relu6() : null;
            if (fn instanceof Relu || fn instanceof Relu6) {
                installed++;
            } else if (faster != null) {
                if (conf instanceof BaseLayer base) {
                    base.setActivationFn(faster);
                } else {
                    ((ActivationLayer) conf).setActivationFn(faster);
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

    /**
     * ReLU6 ({@code min(max(z, 0), 6)}), back-propagated as {@code dL/dz = 0 < z < 6 ? dL/da : 0} in four vectorised
     * passes: {@code step(6 - z)} into a scratch array, {@code step(z)} in place, and two products. DL4J's
     * {@link ActivationReLU6} runs libnd4j's {@code relu6_bp}, a lambda called through {@code std::function} for every
     * element: on MobileNetV2 (width 0.35, batch 128, one core) a fifth of each training iteration.
     */
    @JsonSerialize(using = WrittenAsReLU6.class)
    public static final class Relu6 extends ActivationReLU6 {
        private static final long serialVersionUID = 1L;

        @Override
        public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
            assertShape(in, epsilon);
            INDArray below6 = in.rsub(6.0); // 6 - z > 0 exactly when z < 6 (Sterbenz: no rounding near 6)
            Nd4j.getExecutioner().exec(new Step(below6, below6, 0.0));
            Nd4j.getExecutioner().exec(new Step(in, in, 0.0));
            in.muli(below6).muli(epsilon);
            return new Pair<>(in, null);
        }
    }

    /** Writes a {@link Relu} exactly as DL4J writes a plain {@link ActivationReLU}, type id included. */
    static final class WrittenAsReLU extends WrittenAs<Relu> {
        WrittenAsReLU() {
            super(ActivationReLU.class, new ActivationReLU());
        }
    }

    /** Writes a {@link Relu6} exactly as DL4J writes an {@link ActivationReLU6}, type id included. */
    static final class WrittenAsReLU6 extends WrittenAs<Relu6> {
        WrittenAsReLU6() {
            super(ActivationReLU6.class, new ActivationReLU6());
        }
    }

    /** Writes a faster activation as the DL4J activation it replaces, so that JSON and model zips name DL4J's. */
    abstract static class WrittenAs<T extends IActivation> extends JsonSerializer<T> {
        private final Class<? extends IActivation> dl4jClass;
        private final IActivation dl4j;

        WrittenAs(Class<? extends IActivation> dl4jClass, IActivation dl4j) {
            this.dl4jClass = dl4jClass;
            this.dl4j = dl4j;
        }

        @Override
        public void serialize(T value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            provider.findValueSerializer(dl4jClass).serialize(dl4j, gen, provider);
        }

        @Override
        public void serializeWithType(T value, JsonGenerator gen, SerializerProvider provider, TypeSerializer typeSer)
                throws IOException {
            provider.findValueSerializer(dl4jClass).serializeWithType(dl4j, gen, provider, typeSer);
        }
    }
}
