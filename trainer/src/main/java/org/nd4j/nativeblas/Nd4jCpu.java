package org.nd4j.nativeblas;

import dev.shears.trainer.cpu.CpuAcceleration;

/**
 * Compatibility shim, not ND4J's class: the one class DL4J 1.0.0-M2.1 looks up to decide whether its oneDNN
 * (formerly MKL-DNN) layer helpers may be used, and which M2.1 itself no longer ships.
 *
 * <p>{@code org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper.mklDnnEnabled()} loads
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment} by name and calls {@code getInstance().isUseMKLDNN()}. In M2.1 the
 * JavaCPP bindings moved to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu} and the method was renamed
 * {@code isUseONEDNN()}, so the lookup fails ("Cannot find class [org.nd4j.nativeblas.Nd4jCpu$Environment]"), the
 * check answers false for good, and every convolution, pooling and batch-normalisation helper is dropped even when
 * helpers are allowed. This class answers that lookup with the real state of ND4J's native build; see
 * {@link CpuAcceleration#oneDnnUsable()}. It has no other members and nothing else in DL4J or ND4J M2.1 refers to it.
 *
 * <p>Remove it when DL4J is upgraded past M2.1 (or when ND4J ships a class of this name again:
 * {@link CpuAcceleration#enable()} logs which class answered).
 */
public final class Nd4jCpu {

    private Nd4jCpu() {}

    /** What {@code BaseMKLDNNHelper} calls: {@code getInstance()} and {@code isUseMKLDNN()}. */
    public static final class Environment {

        private static final Environment INSTANCE = new Environment();

        private Environment() {}

        public static Environment getInstance() {
            return INSTANCE;
        }

        /** True when the ND4J CPU backend was built with oneDNN and oneDNN (and native helpers) are switched on. */
        public boolean isUseMKLDNN() {
            return CpuAcceleration.oneDnnUsable();
        }
    }
}
