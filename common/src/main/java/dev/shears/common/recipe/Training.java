package dev.shears.common.recipe;

import java.util.Locale;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * The {@code training} section: how the network is trained densely and fine-tuned between pruning
 * steps.
 *
 * @param updater the optimiser
 * @param learningRate in (0, 10]
 * @param momentum in [0, 1); present exactly when the updater is {@link Updater#NESTEROVS}
 * @param weightDecay L2 weight decay in [0, 1)
 * @param batchSize examples per iteration, in [1, 65536]
 * @param seed seeds weight initialisation, data shuffling and random pruning methods
 * @param denseEpochs epochs of dense training before the first pruning step, in [0, 1000]
 * @param threads worker threads in [0, 1024]; 0 lets the backend choose
 */
public record Training(
        Updater updater,
        double learningRate,
        OptionalDouble momentum,
        double weightDecay,
        int batchSize,
        long seed,
        int denseEpochs,
        int threads) {

    static final String SECTION = "training";
    /** The momentum nesterovs gets when none is given. */
    public static final double DEFAULT_MOMENTUM = 0.9;

    /** The optimiser. */
    public enum Updater {
        /** Plain stochastic gradient descent. */
        SGD(false),
        /** SGD with Nesterov momentum; the only updater that reads {@code momentum}. */
        NESTEROVS(true),
        /** Adam. */
        ADAM(false);

        private final boolean usesMomentum;

        Updater(boolean usesMomentum) {
            this.usesMomentum = usesMomentum;
        }

        /** Whether {@code training.momentum} applies. */
        public boolean usesMomentum() {
            return usesMomentum;
        }

        /** The recipe's spelling: {@code sgd}, {@code nesterovs}, {@code adam}. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @throws RecipeException listing every field out of range */
    public Training {
        Objects.requireNonNull(updater, "updater");
        Objects.requireNonNull(momentum, "momentum");
        Problems.require(SECTION, p -> check(updater, learningRate, momentum, weightDecay, batchSize, denseEpochs,
                threads, p));
    }

    /** nesterovs, lr 0.01, momentum 0.9, no weight decay, batch 64, seed 42, 3 dense epochs, automatic threads. */
    public static Training defaults() {
        return new Training(Updater.NESTEROVS, 0.01, OptionalDouble.of(DEFAULT_MOMENTUM), 0.0, 64, 42, 3, 0);
    }

    /** The range checks; a null argument was already reported as unreadable and is skipped. */
    static void check(Updater updater, Double learningRate, OptionalDouble momentum, Double weightDecay,
            Integer batchSize, Integer denseEpochs, Integer threads, Problems p) {
        p.range(SECTION + ".learningRate", learningRate, 0, false, 10, true, "e.g. 0.01 for SGD, 0.001 for Adam");
        p.takenOnlyBy(SECTION + ".momentum", momentum, "updater", updater, Updater::usesMomentum,
                "a momentum in [0, 1) (fix: e.g. momentum: 0.9)");
        if (momentum != null && momentum.isPresent()) {
            p.range(SECTION + ".momentum", momentum.getAsDouble(), 0, true, 1, false, "e.g. 0.9");
        }
        p.range(SECTION + ".weightDecay", weightDecay, 0, true, 1, false, "e.g. 0.0005, or 0 for none");
        p.range(SECTION + ".batchSize", batchSize, 1, 65536, "e.g. 64");
        p.range(SECTION + ".denseEpochs", denseEpochs, 0, 1000, "e.g. 3, or 0 to start from the model as it is");
        p.range(SECTION + ".threads", threads, 0, 1024, "0 lets the backend choose");
    }
}
