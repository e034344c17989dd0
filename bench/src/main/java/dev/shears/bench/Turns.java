package dev.shears.bench;

import java.util.Arrays;
import picocli.CommandLine.Option;

/**
 * Two calls timed in turns, so that other work on the machine slows both alike: blocks of calls of one and of the other
 * alternate ({@code --pairs} pairs, the order flipping every pair), each block about {@code --block-ms} long. A picocli
 * mixin of the benchmarks that compare two models.
 */
final class Turns {
    @Option(names = "--pairs", description = "alternating pairs of blocks per case (default: 21)")
    int pairs = 21;

    @Option(names = "--block-ms", description = "about how long one block of calls lasts, ms (default: 200)")
    double blockMs = 200;

    /** One comparison: microseconds per call of a and of b (medians over blocks), the median ratio a/b and its quartiles. */
    record Result(int block, double aMicros, double bMicros, double ratio, double q1, double q3) {
    }

    /**
     * Times {@code a} against {@code b}: the block is sized on {@code a} (after 3 calls of warm-up), and both are called
     * one block each before the timed pairs.
     */
    Result time(Runnable a, Runnable b) {
        int block = callsPerBlock(a);
        for (int i = 0; i < block; i++) {
            a.run();
            b.run();
        }
        double[] ta = new double[pairs];
        double[] tb = new double[pairs];
        double[] ratio = new double[pairs];
        for (int p = 0; p < pairs; p++) {
            boolean aFirst = p % 2 == 0;
            double first = block(aFirst ? a : b, block);
            double second = block(aFirst ? b : a, block);
            ta[p] = aFirst ? first : second;
            tb[p] = aFirst ? second : first;
            ratio[p] = ta[p] / tb[p];
        }
        double[] sorted = ratio.clone();
        Arrays.sort(sorted);
        return new Result(block, SideBySide.median(ta), SideBySide.median(tb), SideBySide.median(ratio),
                sorted[pairs / 4], sorted[(3 * pairs) / 4]);
    }

    /** How many calls take about {@code --block-ms}, from 100 ms of timed calls after 3 of warm-up. */
    private int callsPerBlock(Runnable call) {
        for (int i = 0; i < 3; i++) {
            call.run();
        }
        long t0 = System.nanoTime();
        int calls = 0;
        while (System.nanoTime() - t0 < 100_000_000L || calls < 2) {
            call.run();
            calls++;
        }
        return (int) Math.max(1, Math.round(blockMs / ((System.nanoTime() - t0) / 1e6 / calls)));
    }

    private static double block(Runnable call, int calls) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            call.run();
        }
        return (System.nanoTime() - t0) / 1e3 / calls;
    }
}
