package dev.shears.trainer.data;

/**
 * The order of the examples in one epoch: a Fisher-Yates shuffle driven by SplitMix64, seeded
 * from (seed, epoch). The algorithm is written out here rather than taken from the JDK so that an
 * order, and so a checkpoint's position in it, never changes with the Java version.
 */
final class Shuffle {

    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private Shuffle() {}

    /** A permutation of [0, size), the same for the same (seed, epoch). */
    static int[] order(int size, long seed, int epoch) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        long state = mix(seed) ^ mix(epoch + GOLDEN_GAMMA);
        for (int i = size - 1; i > 0; i--) {
            state += GOLDEN_GAMMA;
            int j = (int) Long.remainderUnsigned(mix(state), i + 1L);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }

    /**
     * A random 64-bit value fixed by (seed, epoch, example): what an example's augmentation draws
     * in an epoch, whatever the batch it falls in.
     */
    static long draw(long seed, int epoch, int example) {
        return mix(mix(seed ^ 0x5851f42d4c957f2dL) ^ mix(epoch + GOLDEN_GAMMA) + example * GOLDEN_GAMMA);
    }

    /** SplitMix64's output function (Steele, Lea and Flood, 2014). */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
