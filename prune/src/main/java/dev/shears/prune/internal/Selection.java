package dev.shears.prune.internal;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Prunes the k lowest-scoring candidates of one or many tensors in place, without sorting and
 * without copying them: a two-level radix selection on the 31-bit score keys (a histogram of the
 * high 16 bits, then of the low 15 bits inside the one bucket that holds the k-th key), then one
 * pass that zeroes the mask below the threshold. Three reads of the data, work split over the
 * common fork-join pool, no allocation beyond the histograms and two 16 KiB buffers per task and
 * pass: each pass moves the values and the mask through those buffers in blocks (bulk copies), so
 * its loop runs over plain arrays rather than a direct buffer's checked accessors, and it decides
 * which entries are candidates without a branch (when half of a tensor is pruned, that branch is a
 * coin toss). Ties at the threshold are broken by position (earlier first), so the result does not
 * depend on the thread count.
 */
public final class Selection {

    /** How an entry is scored; the lowest scores are pruned. */
    public enum Score {
        /** |value|: L1 magnitude (NaN ranks above everything, as in torch.topk). */
        MAGNITUDE,
        /** A uniform pseudo-random score per position, from a seed: random pruning. */
        RANDOM
    }

    /**
     * One tensor taking part: its scores' source and its mask (0/1, written in place).
     *
     * @param values the importance values
     * @param mask the mask to prune in place; entries equal to 1 are the candidates when
     *     restricting to the unpruned part
     */
    public record Segment(FloatView values, FloatView mask) {
        public Segment {
            if (values.length() != mask.length()) {
                throw new IllegalArgumentException("importance has " + values.length()
                        + " entries but the mask has " + mask.length());
            }
        }
    }

    private static final int HIGH_BUCKETS = 1 << 16;
    private static final int LOW_BITS = 15;
    private static final int LOW_BUCKETS = 1 << LOW_BITS;
    private static final int LOW_MASK = LOW_BUCKETS - 1;
    /** Elements per block moved between a tensor and a task's buffers. */
    private static final int BLOCK = 4096;

    private Selection() {}

    /** Counts the candidates: entries whose mask is exactly 1 (PyTorch's {@code mask == 1}). */
    public static long countCandidates(List<Segment> segments) {
        long n = 0;
        float[] block = new float[BLOCK];
        for (Segment s : segments) {
            FloatBuffer m = s.mask.buffer();
            int mb = s.mask.base();
            int len = s.mask.length();
            for (int from = 0; from < len; from += BLOCK) {
                int size = Math.min(BLOCK, len - from);
                m.get(mb + from, block, 0, size);
                for (int i = 0; i < size; i++) {
                    if (block[i] == 1f) {
                        n++;
                    }
                }
            }
        }
        return n;
    }

    /**
     * Sets the mask to 0 at the {@code k} lowest-scoring candidates.
     *
     * @param restrict whether only entries whose mask is 1 are candidates (the container's view
     *     of what is still unpruned); otherwise every entry is
     * @param seed the random seed, for {@link Score#RANDOM}
     */
    public static void pruneLowest(List<Segment> segments, long k, Score score, boolean restrict, long seed) {
        if (k <= 0) {
            return;
        }
        List<Stripe> stripes = stripes(segments, Math.max(1, Runtime.getRuntime().availableProcessors()));
        boolean random = score == Score.RANDOM;

        // Pass 1: histogram of the high 16 bits of every candidate's key.
        long[] high = new long[HIGH_BUCKETS];
        parallel(stripes, st -> st.high = new int[HIGH_BUCKETS], st -> {
            int[] h = st.high;
            st.forEach((v, m, n, g) -> {
                for (int i = 0; i < n; i++) { // without a branch on the mask: half pruned is a coin toss
                    h[key(v[i], g + i, random, seed) >>> LOW_BITS] += candidate(restrict, m[i]);
                }
                return false;
            });
        });
        for (Stripe st : stripes) {
            for (int b = 0; b < HIGH_BUCKETS; b++) {
                high[b] += st.high[b];
            }
            st.high = null;
        }
        long cumulative = 0;
        int bucket = 0;
        while (cumulative + high[bucket] < k) {
            cumulative += high[bucket++];
            if (bucket == HIGH_BUCKETS) {
                throw new IllegalStateException("asked to prune " + k + " entries but only "
                        + cumulative + " are candidates");
            }
        }
        long needInBucket = k - cumulative;
        int highKey = bucket;

        // Pass 2: histogram of the low 15 bits inside that bucket, per stripe (for the ties).
        parallel(stripes, st -> st.low = new int[LOW_BUCKETS], st -> {
            int[] h = st.low;
            st.forEach((v, m, n, g) -> {
                for (int i = 0; i < n; i++) {
                    int key = key(v[i], g + i, random, seed);
                    if (key >>> LOW_BITS == highKey) {
                        h[key & LOW_MASK] += candidate(restrict, m[i]);
                    }
                }
                return false;
            });
        });
        long[] low = new long[LOW_BUCKETS];
        for (Stripe st : stripes) {
            for (int b = 0; b < LOW_BUCKETS; b++) {
                low[b] += st.low[b];
            }
        }
        cumulative = 0;
        int lowKey = 0;
        while (cumulative + low[lowKey] < needInBucket) {
            cumulative += low[lowKey++];
        }
        int threshold = (highKey << LOW_BITS) | lowKey;
        long ties = needInBucket - cumulative;
        for (Stripe st : stripes) {
            long here = Math.min(ties, st.low[lowKey]);
            st.tieBudget = here;
            ties -= here;
            st.low = null;
        }

        // Pass 3: zero the mask below the threshold, and the stripe's share of the ties.
        parallel(stripes, st -> {}, st -> {
            long[] budget = {st.tieBudget};
            st.forEach((v, m, n, g) -> {
                int pruned = 0;
                for (int i = 0; i < n; i++) {
                    int key = key(v[i], g + i, random, seed);
                    int below = candidate(restrict, m[i]) & (key - threshold) >>> 31; // 1: candidate below the threshold
                    m[i] = below == 1 ? 0f : m[i];
                    pruned += below;
                    if (key == threshold && budget[0] > 0 && candidate(restrict, m[i]) == 1) {
                        m[i] = 0f;
                        budget[0]--;
                        pruned++;
                    }
                }
                return pruned > 0;
            });
        });
    }

    /** 1 if the entry is a candidate: any entry, or when restricting, one whose mask is exactly 1. */
    private static int candidate(boolean restrict, float mask) {
        return !restrict || mask == 1f ? 1 : 0;
    }

    /** The 31-bit key whose order is the score's order. */
    private static int key(float value, long position, boolean random, long seed) {
        if (random) {
            return (int) (mix(seed + position * 0x9E3779B97F4A7C15L) >>> 33);
        }
        return Float.floatToRawIntBits(value) & 0x7fffffff;
    }

    /** SplitMix64's finaliser: a well-mixed 64-bit hash of the position. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** One block: values and mask of global positions {@code global .. global + n}; true if it changed the mask. */
    private interface BlockBody {
        boolean run(float[] values, float[] mask, int n, long global);
    }

    /** A contiguous share of the concatenated tensors, handled by one task. */
    private static final class Stripe {
        final List<long[]> ranges = new ArrayList<>(); // {segment, from, to, globalOffset}
        final List<Segment> segments;
        int[] high;
        int[] low;
        long tieBudget;

        Stripe(List<Segment> segments) {
            this.segments = segments;
        }

        /** Runs {@code body} over this stripe's ranges block by block, writing changed mask blocks back. */
        void forEach(BlockBody body) {
            float[] v = new float[BLOCK];
            float[] m = new float[BLOCK];
            for (long[] r : ranges) {
                Segment s = segments.get((int) r[0]);
                FloatBuffer values = s.values.buffer();
                FloatBuffer mask = s.mask.buffer();
                int vb = s.values.base();
                int mb = s.mask.base();
                for (int from = (int) r[1], to = (int) r[2]; from < to; from += BLOCK) {
                    int n = Math.min(BLOCK, to - from);
                    values.get(vb + from, v, 0, n);
                    mask.get(mb + from, m, 0, n);
                    if (body.run(v, m, n, r[3] + (from - r[1]))) {
                        mask.put(mb + from, m, 0, n);
                    }
                }
            }
        }
    }

    private static List<Stripe> stripes(List<Segment> segments, int parts) {
        long total = 0;
        for (Segment s : segments) {
            total += s.values.length();
        }
        long per = Math.max(1 << 16, (total + parts - 1) / parts);
        List<Stripe> stripes = new ArrayList<>();
        Stripe current = new Stripe(segments);
        long filled = 0;
        long global = 0;
        for (int si = 0; si < segments.size(); si++) {
            int len = segments.get(si).values.length();
            int from = 0;
            while (from < len) {
                int to = (int) Math.min(len, from + (per - filled));
                current.ranges.add(new long[]{si, from, to, global + from});
                filled += to - from;
                from = to;
                if (filled == per) {
                    stripes.add(current);
                    current = new Stripe(segments);
                    filled = 0;
                }
            }
            global += len;
        }
        if (!current.ranges.isEmpty()) {
            stripes.add(current);
        }
        return stripes;
    }

    private static void parallel(List<Stripe> stripes, java.util.function.Consumer<Stripe> init,
            java.util.function.Consumer<Stripe> body) {
        stripes.forEach(init);
        if (stripes.size() == 1) {
            body.accept(stripes.get(0));
        } else {
            IntStream.range(0, stripes.size()).parallel().forEach(i -> body.accept(stripes.get(i)));
        }
    }
}
