package dev.shears.prune;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Applies a given mask on top of the existing one (PyTorch's {@code CustomFromMask}). */
public record CustomFromMask(INDArray mask) implements PruningMethod {

    public CustomFromMask {
        java.util.Objects.requireNonNull(mask, "mask");
    }

    @Override
    public INDArray computeMask(INDArray importance, INDArray defaultMask) {
        if (!Arrays.equals(defaultMask.shape(), mask.shape())) {
            throw new IllegalArgumentException("mask of shape " + Arrays.toString(mask.shape())
                    + " does not fit a parameter of shape " + Arrays.toString(defaultMask.shape())
                    + " (fix: give the mask in PyTorch layout, e.g. [out, in] for a dense weight)");
        }
        return defaultMask.mul(mask.castTo(defaultMask.dataType()));
    }

    @Override
    public PruningType type() {
        return PruningType.GLOBAL;
    }
}
