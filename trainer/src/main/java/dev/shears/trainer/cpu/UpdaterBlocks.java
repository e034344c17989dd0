package dev.shears.trainer.cpu;

import java.util.List;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * The updater without DL4J's regularization pass where there is nothing to regularize.
 *
 * <p>Before and after every update DL4J's {@code UpdaterBlock} walks each parameter of the block, cuts a view of
 * its parameters and of its gradient out of the network's flat arrays, and only then asks the layer for the
 * parameter's regularizations, which for a network without weight decay is an empty list. On LeNet-5 /
 * Fashion-MNIST (batch 64, one core) those 40 views an iteration were three fifths of the updater's time and 3 % of
 * training (async-profiler, {@code bench/profile.sh}). {@link #skipEmptyRegularization} replaces each block whose
 * parameters have no regularization at all with one that skips that pass; the block keeps DL4J's state (offsets,
 * views, the updater and its state), so the update is DL4J's to the bit. A block with any regularization (L1, L2,
 * weight decay, on any of its parameters) stays DL4J's.
 */
public final class UpdaterBlocks {
    private UpdaterBlocks() {}

    /**
     * Makes every updater block of {@code net} whose parameters have no regularization skip DL4J's regularization
     * pass; creates the network's updater if it has none yet; idempotent. Call it after every (re)build of the
     * network or of its updater (a clone, a restore).
     *
     * @return how many blocks skip it
     */
    public static int skipEmptyRegularization(MultiLayerNetwork net) {
        Updater updater = net.getUpdater(true);
        if (!(updater instanceof BaseMultiLayerUpdater<?> multi)) {
            return 0;
        }
        List<UpdaterBlock> blocks = multi.getUpdaterBlocks();
        int skipping = 0;
        for (int i = 0; i < blocks.size(); i++) {
            UpdaterBlock block = blocks.get(i);
            if (block instanceof Unregularized) {
                skipping++;
            } else if (unregularized(block)) {
                blocks.set(i, new Unregularized(block));
                skipping++;
            }
        }
        return skipping;
    }

    private static boolean unregularized(UpdaterBlock block) {
        for (UpdaterBlock.ParamState p : block.getLayersAndVariablesInBlock()) {
            List<Regularization> regularizations = p.getLayer().getConfig().getRegularizationByParam(p.getParamName());
            if (regularizations != null && !regularizations.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /** DL4J's block, state and all, less the regularization pass over parameters that have none. */
    static final class Unregularized extends UpdaterBlock {
        Unregularized(UpdaterBlock block) {
            super(block.getParamOffsetStart(), block.getParamOffsetEnd(), block.getUpdaterViewOffsetStart(),
                    block.getUpdaterViewOffsetEnd(), block.getLayersAndVariablesInBlock());
            setUpdaterView(block.getUpdaterView());
            setGradientView(block.getGradientView());
            setUpdaterViewRequiresInitialization(block.isUpdaterViewRequiresInitialization());
            setGradientUpdater(block.getGradientUpdater());
        }

        @Override
        protected void applyRegularizationAllVariables(Regularization.ApplyStep applyStep, int iteration, int epoch,
                boolean externalGradient, INDArray fullNetworkGradientView, INDArray fullNetworkParamsArray) {
            // no parameter of this block has a regularization: DL4J's pass would only cut views
        }
    }
}
