package dev.shears.prune;

import java.util.Arrays;

/**
 * One parameter of a model, as pruning sees it.
 *
 * @param name the PyTorch-style name, {@code <layer>.<attribute>} such as {@code conv1.weight}
 * @param key DL4J's parameter-table key, such as {@code 0_W} or {@code conv1_W}
 * @param layer the layer (or graph vertex) name
 * @param kind the layer's kind
 * @param attribute PyTorch's attribute name: {@code weight}, {@code bias}, {@code weight_hh}, ...
 * @param shape the shape in PyTorch layout (a dense weight is {@code [out, in]})
 */
public record PrunableParameter(String name, String key, String layer, LayerKind kind, String attribute, long[] shape) {

    /** Whether this is a weight (not a bias, a running statistic or a normalisation scale). */
    public boolean isWeight() {
        return attribute.endsWith("weight") || attribute.startsWith("weight_");
    }

    /** Number of entries. */
    public long size() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PrunableParameter p && name.equals(p.name) && key.equals(p.key)
                && Arrays.equals(shape, p.shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name + " (" + key + ", " + kind + ", " + Arrays.toString(shape) + ")";
    }
}
