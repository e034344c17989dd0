package dev.shears.common.recipe;

/**
 * How much of the training data is held out as the validation split, which decides the accuracy
 * budget (the test split is only reported): a fraction of the training examples, or a count.
 *
 * @param fraction in (0, {@value #MAX_FRACTION}] when {@code count} is 0, else 0
 * @param count    in [1, {@value #MAX_COUNT}], or 0 when a fraction is given
 */
public record ValidationSplit(double fraction, int count) {

    /** The default: 10 % of the training examples. */
    public static final ValidationSplit DEFAULT = fraction(0.1);
    static final double MAX_FRACTION = 0.5;
    static final int MAX_COUNT = 100_000_000;

    /** @throws RecipeException when neither or both are given, or one is out of range */
    public ValidationSplit {
        double f = fraction;
        int n = count;
        Problems.require(DataSpec.FIELD, p -> check(f, n, p));
    }

    /** A fraction in (0, 0.5] of the training examples. */
    public static ValidationSplit fraction(double fraction) {
        return new ValidationSplit(fraction, 0);
    }

    /** A number of training examples, >= 1. */
    public static ValidationSplit count(int count) {
        return new ValidationSplit(0, count);
    }

    /**
     * The number of the {@code trainingExamples} held out: the count, or the fraction rounded to
     * the nearest whole number; at least 1.
     *
     * @throws IllegalArgumentException when it would leave no training example (the message says how to fix it)
     */
    public int examples(int trainingExamples) {
        long held = count > 0 ? count : Math.max(1, Math.round(fraction * trainingExamples));
        if (held >= trainingExamples) {
            throw new IllegalArgumentException("data.validation " + this + " holds out " + held + " of "
                    + trainingExamples + " training examples and leaves none to train on (fix: a smaller"
                    + " validation, e.g. 0.1)");
        }
        return (int) held;
    }

    static void check(double fraction, int count, Problems p) {
        String field = DataSpec.FIELD + ".validation";
        if (count == 0) {
            p.range(field, fraction, 0, false, MAX_FRACTION, true,
                    "a fraction such as 0.1, or a whole number of examples such as 5000");
        } else {
            if (fraction != 0) {
                p.add(field, fraction, "is both a fraction and a count (fix: give one)");
            }
            p.range(field, count, 1, MAX_COUNT, "e.g. 5000, or a fraction such as 0.1");
        }
    }

    /** {@code 0.1} or {@code 5000}, as the recipe spells it. */
    @Override
    public String toString() {
        return count > 0 ? Integer.toString(count) : Problems.num(fraction);
    }
}
