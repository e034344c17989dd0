package dev.shears.trainer.data;

import dev.shears.common.data.DataShape;
import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.DataSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The data one job session trains and evaluates on: its recipe's data set, taken from the worker's {@link DataCache}
 * (shared read-only with every other session), split into training, validation and test examples
 * ({@link Partition}), normalised alike, and the stream of training batches with its position.
 *
 * <p>What a job needs of its data, and nothing of the model: the shape and classes to build the model for, the batches
 * to train on, both evaluations ({@link Evaluation}: validation decides, test reports), a probe batch for publication,
 * and the input contract a published model states.
 *
 * <p>Used by one thread at a time, as its session is.
 */
public final class JobData {

    /** At most this many values are fed to the model at once when evaluating (16 MiB of floats). */
    private static final int EVALUATION_VALUES = 1 << 22;
    /** At most this many examples are fed at once when evaluating. */
    private static final int EVALUATION_BATCH = 1000;

    private final LoadedDataset dataset;
    private final Partition partition;
    private final Batches batches;

    private JobData(LoadedDataset dataset, Partition partition, Batches batches) {
        this.dataset = dataset;
        this.partition = partition;
        this.batches = batches;
    }

    /**
     * The data {@code spec} names, from {@code cache}: its validation split held out by {@code seed}, normalised by
     * {@code stored} (a checkpoint's, so that a resumed job is fed exactly as before), else by the recipe's, the
     * catalogue's, or what the training examples measure; training batches of {@code batchSize} in the order
     * {@code seed} draws, augmented as {@code spec} asks, from the start.
     *
     * @throws Roots.UnavailableException when no data root holds the data set (the message is safe to send back)
     * @throws DatasetException when its files are not valid, or the recipe's split, normalisation or augmentation do not
     *     fit it; the message names the data set and the fix
     */
    public static JobData open(DataSpec spec, long seed, int batchSize, DataCache cache,
            Optional<Normalization> stored) {
        LoadedDataset dataset = cache.get(spec.name(), spec.shape());
        try {
            Partition partition = Partition.of(dataset, spec.validation(), seed, stored.or(spec::normalization));
            Batches batches = Batches.shuffled(partition.train(), partition.normalization(), batchSize, seed,
                    spec.augmentation());
            return new JobData(dataset, partition, batches);
        } catch (IllegalArgumentException e) {
            throw new DatasetException("data set " + spec.name() + ": " + e.getMessage(), e);
        }
    }

    /** The shape of an example and the number of classes: what the model is built for. */
    public DataShape shape() {
        return dataset.shape();
    }

    /** The normalisation every split is fed with: to store in checkpoints and publish with the model. */
    public Normalization normalization() {
        return partition.normalization();
    }

    /** The training batches: an endless stream whose position checkpoints save and restores seek to. */
    public Batches batches() {
        return batches;
    }

    /** The split as the job uses it. */
    public Partition partition() {
        return partition;
    }

    /**
     * {@code model} on the validation and the test split, in inference mode, normalised as trained.
     *
     * @throws IllegalArgumentException when the model does not take these examples or output these classes
     */
    public Evaluation evaluate(Model model) {
        int batch = evaluationBatch();
        return new Evaluation(EvalResult.evaluate(model, partition.validation(), partition.normalization(), batch),
                EvalResult.evaluate(model, partition.test(), partition.normalization(), batch));
    }

    /**
     * As {@link #evaluate(Model)}, for any classifier: {@code forward} gives the class probabilities
     * {@code [batch, classes]} of a batch of normalised features, in inference mode.
     *
     * @throws IllegalArgumentException when {@code forward} does not output these classes
     */
    public Evaluation evaluate(UnaryOperator<INDArray> forward) {
        int batch = evaluationBatch();
        return new Evaluation(EvalResult.evaluate(forward, partition.validation(), partition.normalization(), batch),
                EvalResult.evaluate(forward, partition.test(), partition.normalization(), batch));
    }

    /**
     * The first {@code max} test examples (fewer when the split has fewer), normalised as the model is fed: a batch to
     * compare a model's outputs before and after a change (removing masks, compaction).
     */
    public INDArray probe(int max) {
        int n = Math.min(max, partition.test().size());
        return Batches.inOrder(partition.test(), partition.normalization(), n).next().getFeatures();
    }

    /**
     * What anyone feeding the trained model must give it, for a published manifest: the layout and shape of a
     * batch, what the values are before normalisation, the per-channel normalisation and the classes by output index.
     */
    public Map<String, Object> inputContract() {
        InputShape input = dataset.shape().input();
        Normalization n = partition.normalization();
        Map<String, Object> contract = new LinkedHashMap<>();
        contract.put("dataset", dataset.name());
        contract.put("layout", input.isImage() ? "NCHW" : "NF");
        contract.put("shape", input.isImage() ? List.of(input.channels(), input.height(), input.width())
                : List.of(input.channels()));
        contract.put("dtype", "float32");
        contract.put("values", input.isImage()
                ? "pixels scaled to [0, 1], " + (input.channels() == 1 ? "grey" : "RGB") + ", resized to "
                        + input.height() + "x" + input.width()
                : "the feature columns as written in the data set's CSV, in column order, the label column left out");
        Map<String, Object> normalization = new LinkedHashMap<>();
        normalization.put("mean", n.mean());
        normalization.put("std", n.std());
        normalization.put("applied", "(x - mean[c]) / std[c], per " + (input.isImage() ? "channel" : "feature"));
        contract.put("normalization", normalization);
        contract.put("classes", dataset.shape().classes());
        contract.put("classNames", dataset.classNames());
        return contract;
    }

    /**
     * The heap this session's data holds beyond the shared data set, in bytes: its split's row indices and the staging
     * arrays of its batches.
     */
    public long heapBytes() {
        long rows = 4L * (partition.train().size() + partition.validation().size());
        InputShape input = dataset.shape().input();
        long batch = Math.min(batches.batchSize(), partition.train().size());
        long staging = 4L * batch * (input.size() + dataset.shape().classes()) + 5L * input.size();
        return rows + staging;
    }

    private int evaluationBatch() {
        return Math.max(1, Math.min(EVALUATION_BATCH, EVALUATION_VALUES / dataset.shape().input().size()));
    }

    /** {@code fashion-mnist: 1x28x28, 10 classes; 54,000 train, 6,000 validation, 10,000 test}. */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%s: %s, %d classes; %,d train, %,d validation, %,d test%s",
                dataset.name(), dataset.shape().input(), dataset.shape().classes(), partition.train().size(),
                partition.validation().size(), partition.test().size(), dataset.isStreamed() ? ", streamed" : "");
    }
}
