package dev.shears.trainer.data;

import dev.shears.common.data.DataShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.ValidationSplit;
import java.util.Arrays;
import java.util.Optional;

/**
 * A data set as one job uses it: the training examples less those held out for validation, the
 * validation examples (they decide the accuracy budget), the test examples (only reported), and
 * the normalisation applied to all three alike.
 *
 * <p>Which examples are held out depends only on the data set, the validation size and the seed:
 * the same on every machine and at every resume. Each split keeps the files' order.
 *
 * @param train         the examples trained on
 * @param validation    the examples held out of the training files
 * @param test          the test files' examples
 * @param normalization the recipe's, else the catalogue's, else computed from {@code train}
 */
public record Partition(Examples train, Examples validation, Examples test, Normalization normalization) {

    /**
     * Holds {@code validation} of {@code data}'s training examples out, chosen by {@code seed}, and
     * settles the normalisation: {@code given} (the recipe's), else the catalogue's, else each
     * channel's mean and standard deviation over the remaining training examples.
     *
     * @throws IllegalArgumentException when the validation split would leave nothing to train on,
     *                                  or {@code given} has another number of channels than the data
     */
    public static Partition of(LoadedDataset data, ValidationSplit validation, long seed,
            Optional<Normalization> given) {
        int n = data.trainSize();
        int held = validation.examples(n);
        int[] order = Shuffle.order(n, seed, -1);
        int[] validationRows = Arrays.copyOf(order, held);
        int[] trainRows = Arrays.copyOfRange(order, held, n);
        Arrays.sort(validationRows);
        Arrays.sort(trainRows);
        DataShape shape = data.shape();
        Examples train = new Examples(data.train(), trainRows, shape, data.classNames());
        Examples test = new Examples(data.test(), null, shape, data.classNames());
        Optional<Normalization> fixed = given.or(data::normalization);
        if (fixed.isPresent() && fixed.get().channels() != shape.input().channels()) {
            throw new IllegalArgumentException("a normalisation of " + fixed.get().channels() + " channels cannot"
                    + " apply to data set " + data.name() + " of " + shape.input() + " (fix: give one mean and one std"
                    + " per channel, " + shape.input().channels() + ")");
        }
        return new Partition(train, new Examples(data.train(), validationRows, shape, data.classNames()), test,
                fixed.orElseGet(() -> measure(train)));
    }

    /** Each channel's mean and (population) standard deviation over {@code examples}, in double precision. */
    static Normalization measure(Examples examples) {
        int channels = examples.shape().input().channels();
        int plane = examples.shape().input().channelSize();
        int size = examples.shape().input().size();
        double[] sum = new double[channels];
        double[] squares = new double[channels];
        float[] values = new float[size];
        byte[] scratch = new byte[size];
        for (int i = 0; i < examples.size(); i++) {
            examples.read(i, values, 0, scratch);
            for (int c = 0; c < channels; c++) {
                double s = 0;
                double q = 0;
                for (int j = c * plane; j < (c + 1) * plane; j++) {
                    s += values[j];
                    q += (double) values[j] * values[j];
                }
                sum[c] += s;
                squares[c] += q;
            }
        }
        Double[] mean = new Double[channels];
        Double[] std = new Double[channels];
        double count = (double) examples.size() * plane;
        for (int c = 0; c < channels; c++) {
            mean[c] = sum[c] / count;
            double variance = Math.max(0, squares[c] / count - mean[c] * mean[c]);
            std[c] = variance > 1e-12 ? Math.sqrt(variance) : 1.0;
        }
        return new Normalization(Arrays.asList(mean), Arrays.asList(std));
    }
}
