package dev.shears.trainer.cpu;

import java.util.Arrays;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The input gradient of a layer that skips it: an array of NaN of the input's shape, so that whoever asks a network
 * prepared for training for its input gradient gets an unmistakable answer rather than wrong numbers. Kept outside
 * DL4J's workspaces and reused while the shape holds.
 */
final class NaNGradient {
    private INDArray nan;

    /** NaN in the shape and type of {@code input}. */
    INDArray like(INDArray input) {
        if (nan == null || nan.dataType() != input.dataType() || !Arrays.equals(nan.shape(), input.shape())) {
            try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                nan = Nd4j.valueArrayOf(input.shape(), Double.NaN, input.dataType());
            }
        }
        return nan;
    }
}
