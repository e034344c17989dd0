package dev.shears.common.data;

import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Per-channel standardisation of a model's input: channel {@code c} of every example is fed as
 * {@code (x - mean[c]) / std[c]}, where {@code x} is the value as read (pixels scaled to [0, 1],
 * CSV features as written). Trained with it, a model needs it again at evaluation and by anyone
 * who loads it: it belongs to the model's input contract.
 *
 * @param mean one value per channel (per feature for tabular data), finite
 * @param std  one value per channel, finite and > 0
 */
public record Normalization(List<Double> mean, List<Double> std) {

    /** @throws IllegalArgumentException when the lists are empty, differ in length, or hold a value out of range */
    public Normalization {
        mean = List.copyOf(Objects.requireNonNull(mean, "mean"));
        std = List.copyOf(Objects.requireNonNull(std, "std"));
        if (mean.isEmpty() || mean.size() != std.size()) {
            throw new IllegalArgumentException("a normalisation needs one mean and one std per channel, got "
                    + mean.size() + " means and " + std.size() + " stds");
        }
        for (int c = 0; c < mean.size(); c++) {
            double m = mean.get(c);
            double s = std.get(c);
            if (!Double.isFinite(m) || !Double.isFinite(s) || s <= 0) {
                throw new IllegalArgumentException("channel " + c + " has mean " + m + " and std " + s
                        + ": the mean must be finite and the std finite and > 0");
            }
        }
    }

    /** The same mean and std for each of {@code channels} channels. */
    public static Normalization uniform(int channels, double mean, double std) {
        return new Normalization(Collections.nCopies(channels, mean),
                Collections.nCopies(channels, std));
    }

    /** The number of channels. */
    public int channels() {
        return mean.size();
    }
}
