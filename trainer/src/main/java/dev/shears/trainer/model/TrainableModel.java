package dev.shears.trainer.model;

import dev.shears.common.data.InputShape;
import dev.shears.prune.Compaction;
import dev.shears.prune.DependencyGroups;
import dev.shears.prune.ModelCost;
import dev.shears.prune.PrunedModel;
import dev.shears.prune.Pruning;
import dev.shears.trainer.cpu.FusedInference;
import dev.shears.trainer.train.TrainingPath;
import java.io.File;
import java.io.IOException;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One DL4J model a job trains, whichever kind it is — a {@link MultiLayerNetwork} or a {@link ComputationGraph} —
 * with the few operations a job needs of it: train on a batch, run inference, copy, pair with its pruning state,
 * checkpoint, count its cost, compact it. The rest of the trainer goes through this class, so that every stage of a
 * job works on both kinds through one path.
 *
 * <p>The model takes examples of {@link #input()} shape. Flat features {@code [batch, c·h·w]} given to a graph that
 * reads images are viewed as {@code [batch, c, h, w]} (no copy), so that one batch stream serves both kinds.
 *
 * <p>{@link #fit} reseeds ND4J's random generator from the iteration before every batch, so that what draws random
 * numbers while training (dropout) draws the same ones after a resume: training from a checkpoint is bit-identical
 * to training straight through.
 *
 * <p>Not thread-safe, like the model it holds.
 */
public final class TrainableModel {
    private static final Logger log = LoggerFactory.getLogger(TrainableModel.class);
    private final Model model;
    private final InputShape input;

    private TrainableModel(Model model, InputShape input) {
        if (!(model instanceof MultiLayerNetwork || model instanceof ComputationGraph)) {
            throw new IllegalArgumentException("model " + (model == null ? null : model.getClass().getName())
                    + " is neither a MultiLayerNetwork nor a ComputationGraph (fix: pass one of those)");
        }
        if (model instanceof ComputationGraph g && (g.getNumInputArrays() != 1 || g.getNumOutputArrays() != 1)) {
            throw new IllegalArgumentException("the graph has " + g.getNumInputArrays() + " inputs and "
                    + g.getNumOutputArrays() + " outputs; a job trains graphs with exactly one of each (fix: a"
                    + " classifier with one input and one softmax output)");
        }
        this.model = model;
        this.input = Objects.requireNonNull(input, "input");
    }

    /**
     * @param model a {@link MultiLayerNetwork} or a {@link ComputationGraph} with one input and one output,
     *     initialised
     * @param input the shape of one example, as the data gives it
     * @throws IllegalArgumentException when the model is of another kind or a graph with several inputs or outputs
     */
    public static TrainableModel of(Model model, InputShape input) {
        return new TrainableModel(model, input);
    }

    /** The DL4J model itself. */
    public Model model() {
        return model;
    }

    /** The shape of one example. */
    public InputShape input() {
        return input;
    }

    /** Whether the model is a {@link ComputationGraph} (else a {@link MultiLayerNetwork}). */
    public boolean isGraph() {
        return model instanceof ComputationGraph;
    }

    /** The model's kind as its class's simple name, for manifests and messages. */
    public String kind() {
        return model.getClass().getSimpleName();
    }

    /**
     * One training step on {@code batch} (forward, back-propagation, update, listeners), with ND4J's random
     * generator seeded by {@code seed} and {@code iteration} first.
     */
    public void fit(DataSet batch, long seed, long iteration) {
        Nd4j.getRandom().setSeed(seed * 1_000_003L + iteration);
        DataSet shaped = new DataSet(shaped(batch.getFeatures()), batch.getLabels());
        if (model instanceof ComputationGraph graph) {
            graph.fit(shaped);
        } else {
            ((MultiLayerNetwork) model).fit(shaped);
        }
    }

    /** The model's output for {@code features} in inference mode (no dropout, no change to the model). */
    public INDArray output(INDArray features) {
        INDArray x = shaped(features);
        return model instanceof ComputationGraph graph ? graph.outputSingle(false, x)
                : ((MultiLayerNetwork) model).output(x, false);
    }

    /**
     * Runs {@code use} with a forward pass of the model with its parameters as they are now: the model compiled by
     * {@link FusedInference} where oneDNN's API runs here and every layer has a fused form (every built-in
     * architecture; ResNet-20 at batch 64 twice as fast, equal to {@link #output} up to float rounding), else {@link #output}
     * itself, also when oneDNN turns out to have no primitive for a step at the data's shape ({@code use} then runs
     * again on DL4J's path). The compiled form's native memory is released when {@code use} returns; call this again
     * after the parameters change.
     */
    public <T> T withInference(Function<UnaryOperator<INDArray>, T> use) {
        FusedInference fused = null;
        if (FusedInference.available()) {
            try {
                fused = FusedInference.compile(model);
            } catch (IllegalArgumentException e) {
                log.debug("evaluating through DL4J: {}", e.getMessage());
            }
        }
        if (fused == null) {
            return use.apply(this::output);
        }
        try (FusedInference f = fused) {
            return use.apply(features -> f.output(shaped(features)));
        } catch (FusedInference.NoPrimitive e) {
            log.warn("evaluating through DL4J: {}", e.getMessage());
            return use.apply(this::output); // inference changes nothing: the whole use runs again
        }
    }

    /**
     * Flat features viewed in the shape a graph reading images takes; anything else as it is: what the model's own
     * forward pass reads, for code that runs it another way.
     */
    public INDArray shaped(INDArray features) {
        if (model instanceof ComputationGraph && features.rank() == 2 && input.isImage()) {
            return features.reshape('c', input.batchShape((int) features.size(0)));
        }
        return features;
    }

    /** Every parameter as one flat view of the model's memory. */
    public INDArray params() {
        return model.params();
    }

    /** The number of parameters. */
    public long numParams() {
        return model.numParams();
    }

    /** The updater's state (momentum, Adam's moments) as one flat view; empty before the first update. */
    public INDArray updaterState() {
        INDArray state = model instanceof ComputationGraph graph ? graph.getUpdater().getStateViewArray()
                : ((MultiLayerNetwork) model).getUpdater().getStateViewArray();
        return state == null ? Nd4j.empty() : state;
    }

    /** A deep copy: configuration, parameters and updater state; without listeners or the training path. */
    public TrainableModel copy() {
        Model clone = model instanceof ComputationGraph graph ? graph.clone() : ((MultiLayerNetwork) model).clone();
        return new TrainableModel(clone, input);
    }

    /** A new, empty pruning state over this model's parameters ({@code Pruning.of}). */
    public Pruning newPruning() {
        return model instanceof ComputationGraph graph ? Pruning.of(graph) : Pruning.of((MultiLayerNetwork) model);
    }

    /** The model's dependency groups ({@code DependencyGroups.of}). */
    public DependencyGroups dependencyGroups() {
        return model instanceof ComputationGraph graph ? DependencyGroups.of(graph)
                : DependencyGroups.of((MultiLayerNetwork) model);
    }

    /** Replaces the model's training listeners. */
    public void setListeners(TrainingListener... listeners) {
        model.setListeners(listeners);
    }

    /** Makes the model train on the fast CPU path ({@link TrainingPath#prepare}); again after every rebuild. */
    public void prepareTraining() {
        if (model instanceof ComputationGraph graph) {
            TrainingPath.prepare(graph);
        } else {
            TrainingPath.prepare((MultiLayerNetwork) model);
        }
    }

    /**
     * Saves the model with its updater and {@code pruning} state to {@code file} ({@link PrunedModel}).
     *
     * @throws IllegalArgumentException when {@code pruning} is over another model
     */
    public void save(Pruning pruning, File file) throws IOException {
        new PrunedModel(model, pruning).save(file, true);
    }

    /** What one forward pass on one example costs (FLOPs, parameters); see {@link ModelCost#of}. */
    public ModelCost cost() {
        return ModelCost.of(model, inputTypes());
    }

    /** As {@link #cost()}, counting only non-zero weights. */
    public ModelCost nonZeroCost() {
        return ModelCost.nonZero(model, inputTypes());
    }

    /** The compacted copy of this model ({@link Compaction}); this one is not modified. */
    public Compaction.Result compact() {
        return model instanceof ComputationGraph graph ? Compaction.compact(graph)
                : Compaction.compact((MultiLayerNetwork) model);
    }

    /** This model's kind of model holding {@code other}, for the same input. */
    public TrainableModel with(Model other) {
        return new TrainableModel(other, input);
    }

    /** The model's configuration as DL4J's JSON. */
    public String configurationJson() {
        return model instanceof ComputationGraph graph ? graph.getConfiguration().toJson()
                : ((MultiLayerNetwork) model).getLayerWiseConfigurations().toJson();
    }

    /**
     * The input types {@link ModelCost} reads: the data's for a graph (DL4J does not keep a graph's input types in
     * its configuration); a network's inferred from its first layer when it tells them, else the data's.
     */
    private InputType[] inputTypes() {
        if (model instanceof MultiLayerNetwork) {
            try {
                ModelCost.of(model);
                return new InputType[0];
            } catch (IllegalArgumentException e) {
                // the first layer does not tell its input: the data's shape does
            }
        }
        return new InputType[]{dataType()};
    }

    private InputType dataType() {
        return input.isImage() ? InputType.convolutional(input.height(), input.width(), input.channels())
                : InputType.feedForward(input.size());
    }
}
