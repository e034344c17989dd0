package dev.shears.trainer.publish;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Inference latency of two models on the same input, measured alternately so that both see the same load: a few
 * warm-up runs, then pairs of runs until {@link #RUNS} pairs or {@link #BUDGET_NANOS} have passed (at least
 * {@link #MIN_RUNS}), and the median of each.
 */
final class Latency {
    static final int RUNS = 300;
    static final int MIN_RUNS = 5;
    static final long BUDGET_NANOS = 4_000_000_000L;
    private static final int WARM_UP = 5;

    /** The median latencies, in ms, of the first and the second model. */
    record Pair(double firstMs, double secondMs) {
    }

    /** One way to run a model forward. */
    interface Forward {
        INDArray output(INDArray input);
    }

    private Latency() {}

    static Pair compare(Forward first, Forward second, INDArray input) {
        for (int i = 0; i < WARM_UP; i++) {
            first.output(input);
            second.output(input);
        }
        double[] a = new double[RUNS];
        double[] b = new double[RUNS];
        long start = System.nanoTime();
        int n = 0;
        while (n < RUNS && (n < MIN_RUNS || System.nanoTime() - start < BUDGET_NANOS)) {
            long t0 = System.nanoTime();
            first.output(input);
            long t1 = System.nanoTime();
            second.output(input);
            long t2 = System.nanoTime();
            a[n] = (t1 - t0) / 1e6;
            b[n] = (t2 - t1) / 1e6;
            n++;
        }
        return new Pair(median(a, n), median(b, n));
    }

    private static double median(double[] values, int n) {
        double[] sorted = Arrays.copyOf(values, n);
        Arrays.sort(sorted);
        return sorted[n / 2];
    }
}
