package dev.shears.trainer.train;

import dev.shears.prune.Pruning;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Keeps pruned weights at exactly zero while a DL4J model trains: gradients are multiplied by the
 * masks before the updater sees them, parameters are multiplied by the masks after each update,
 * and when the masks change, the updater's state (momentum, Adam's moments) is zeroed where the
 * new masks are zero, so no stale momentum pushes a pruned weight. Holds under SGD with momentum,
 * Adam and weight decay (a zero weight decays by zero).
 *
 * <p>Attach with {@code model.addListeners(new MaskedTraining(pruning))}; it follows the
 * {@link Pruning}'s masks as they change ({@link Pruning#version()}).
 */
public final class MaskedTraining extends BaseTrainingListener {
    private final Pruning pruning;
    private long seenVersion = Long.MIN_VALUE;
    private Map<String, INDArray> masks = Map.of();

    public MaskedTraining(Pruning pruning) {
        this.pruning = pruning;
    }

    @Override
    public void onGradientCalculation(Model model) {
        refresh(model);
        Gradient gradient = model.gradient();
        for (Map.Entry<String, INDArray> e : masks.entrySet()) {
            INDArray g = gradient.getGradientFor(e.getKey());
            if (g != null) {
                g.muli(e.getValue());
            }
        }
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        for (Map.Entry<String, INDArray> e : masks.entrySet()) {
            model.getParam(e.getKey()).muli(e.getValue());
        }
    }

    /**
     * Picks up changed masks: re-reads them and zeroes the updater state of newly pruned entries.
     * Called by the listener itself; call it directly right after pruning to clear the state at once.
     */
    public void refresh(Model model) {
        if (pruning.version() == seenVersion) {
            return;
        }
        masks = pruning.masksInModelLayout();
        seenVersion = pruning.version();
        zeroUpdaterState(model, masks);
        for (Map.Entry<String, INDArray> e : masks.entrySet()) {
            model.getParam(e.getKey()).muli(e.getValue());
        }
    }

    /** Multiplies each parameter's slices of the updater state by its mask. */
    static void zeroUpdaterState(Model model, Map<String, INDArray> masks) {
        Updater updater;
        INDArray flatParams;
        if (model instanceof MultiLayerNetwork net) {
            updater = net.getUpdater(false);
            flatParams = net.params();
        } else if (model instanceof ComputationGraph graph) {
            updater = graph.getUpdater(false);
            flatParams = graph.params();
        } else {
            throw new IllegalArgumentException("model of type " + model.getClass().getName()
                    + " is not supported (fix: use a MultiLayerNetwork or a ComputationGraph)");
        }
        if (!(updater instanceof BaseMultiLayerUpdater<?> multi)) {
            return; // not initialised yet: the state will start at zero
        }
        Map<Long, INDArray> maskByOffset = new HashMap<>();
        for (Map.Entry<String, INDArray> e : masks.entrySet()) {
            long offset = model.getParam(e.getKey()).offset() - flatParams.offset();
            maskByOffset.put(offset, e.getValue());
        }
        List<UpdaterBlock> blocks = multi.getUpdaterBlocks();
        for (UpdaterBlock block : blocks) {
            INDArray state = block.getUpdaterView();
            long blockLength = block.getParamOffsetEnd() - block.getParamOffsetStart();
            if (state == null || state.length() == 0 || blockLength == 0) {
                continue;
            }
            INDArray flatState = state.reshape(state.length());
            long copies = state.length() / blockLength;
            for (UpdaterBlock.ParamState ps : block.getLayersAndVariablesInBlock()) {
                INDArray mask = maskByOffset.get((long) ps.getParamOffsetStart());
                if (mask == null) {
                    continue;
                }
                INDArray flatMask = mask.reshape(mask.ordering(), new long[]{mask.length()});
                long within = ps.getParamOffsetStart() - block.getParamOffsetStart();
                long length = ps.getParamOffsetEnd() - ps.getParamOffsetStart();
                for (long c = 0; c < copies; c++) {
                    long from = c * blockLength + within;
                    flatState.get(NDArrayIndex.interval(from, from + length)).muli(flatMask);
                }
            }
        }
    }
}
