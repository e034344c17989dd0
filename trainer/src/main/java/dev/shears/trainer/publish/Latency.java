package dev.shears.trainer.publish;

import java.util.Arrays;
import java.util.function.LongSupplier;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Inference latency of two models on the same input, measured alternately so that both see the same load: a few
 * warm-up runs, then pairs of runs, and the median of each. The pairs stop once both medians are known within
 * {@link #PRECISION} (a distribution-free 95 % confidence interval from the order statistics, looked at every
 * {@link #CHECK_EVERY} pairs from {@link #PRECISE_RUNS}), or after {@link #RUNS} pairs, or when
 * {@link #BUDGET_NANOS} have passed (at least {@link #MIN_RUNS} pairs): a quiet machine is done in a few dozen pairs,
 * a noisy one keeps measuring.
 */
final class Latency {
    static final int RUNS = 300;
    static final int MIN_RUNS = 5;
    static final long BUDGET_NANOS = 4_000_000_000L;
    /** The fewest pairs whose medians may be called precise. */
    static final int PRECISE_RUNS = 30;
    /** How close to its median both ends of each median's 95 % confidence interval must be, relatively. */
    static final double PRECISION = 0.02;
    private static final int CHECK_EVERY = 10;
    private static final int WARM_UP = 5;

    /** The median latencies, in ms, of the first and the second model, over {@code runs} pairs. */
    record Pair(double firstMs, double secondMs, int runs) {
    }

    /** One way to run a model forward. */
    interface Forward {
        INDArray output(INDArray input);
    }

    private Latency() {}

    static Pair compare(Forward first, Forward second, INDArray input) {
        return compare(first, second, input, System::nanoTime);
    }

    /** {@link #compare(Forward, Forward, INDArray)} timed by {@code clock}, in nanoseconds. */
    static Pair compare(Forward first, Forward second, INDArray input, LongSupplier clock) {
        for (int i = 0; i < WARM_UP; i++) {
            first.output(input);
            second.output(input);
        }
        double[] a = new double[RUNS];
        double[] b = new double[RUNS];
        long start = clock.getAsLong();
        int n = 0;
        while (n < RUNS && (n < MIN_RUNS || clock.getAsLong() - start < BUDGET_NANOS)
                && !(n >= PRECISE_RUNS && n % CHECK_EVERY == 0 && precise(a, n) && precise(b, n))) {
            long t0 = clock.getAsLong();
            first.output(input);
            long t1 = clock.getAsLong();
            second.output(input);
            long t2 = clock.getAsLong();
            a[n] = (t1 - t0) / 1e6;
            b[n] = (t2 - t1) / 1e6;
            n++;
        }
        return new Pair(median(a, n), median(b, n), n);
    }

    /**
     * Whether the median of the first {@code n} values is known within {@link #PRECISION}: the order statistics of
     * ranks {@code n/2 -+ 0.98 sqrt(n)} (a 95 % confidence interval for the median, whatever the distribution) lie
     * that close to it.
     */
    static boolean precise(double[] values, int n) {
        double[] sorted = Arrays.copyOf(values, n);
        Arrays.sort(sorted);
        double median = sorted[n / 2];
        double spread = 0.98 * Math.sqrt(n);
        int low = Math.max(0, (int) Math.floor(n / 2.0 - spread) - 1);
        int high = Math.min(n - 1, (int) Math.ceil(n / 2.0 + spread));
        return sorted[high] - median <= PRECISION * median && median - sorted[low] <= PRECISION * median;
    }

    private static double median(double[] values, int n) {
        double[] sorted = Arrays.copyOf(values, n);
        Arrays.sort(sorted);
        return sorted[n / 2];
    }
}
