package dev.shears.prune;

import java.util.Locale;

/**
 * The norm that ranks channels in {@link LnStructured}: PyTorch's {@code n} argument. Any p
 * ({@code sum(|x|^p)^(1/p)}; p = 0 counts non-zeros), +inf (largest |x|), -inf (smallest |x|), or
 * Frobenius, which like PyTorch 1.13 accepts at most two reduced dimensions.
 *
 * @param p the order; ignored when {@code frobenius}
 * @param frobenius whether this is {@code 'fro'}
 */
public record Norm(double p, boolean frobenius) {
    public static final Norm L1 = new Norm(1, false);
    public static final Norm L2 = new Norm(2, false);
    public static final Norm INF = new Norm(Double.POSITIVE_INFINITY, false);
    public static final Norm NEG_INF = new Norm(Double.NEGATIVE_INFINITY, false);
    public static final Norm FRO = new Norm(2, true);

    public Norm {
        if (Double.isNaN(p)) {
            throw new IllegalArgumentException(
                    "norm order p=NaN is not a number (fix: give 1, 2, any p, inf, -inf or fro)");
        }
    }

    /** The p-norm of order {@code p}. */
    public static Norm p(double p) {
        return new Norm(p, false);
    }

    /** Parses PyTorch's spelling: {@code "1"}, {@code "2"}, {@code "3.5"}, {@code "inf"}, {@code "-inf"}, {@code "fro"}. */
    public static Norm parse(String n) {
        String s = n.trim().toLowerCase(Locale.ROOT);
        switch (s) {
            case "fro" :
                return FRO;
            case "inf" :
            case "+inf" :
                return INF;
            case "-inf" :
                return NEG_INF;
            default :
                try {
                    return p(Double.parseDouble(s));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("norm '" + n
                            + "' is not understood (fix: give a number such as 1 or 2, inf, -inf or fro)", e);
                }
        }
    }

    /** Norms of a tensor's channels along {@code dim}; {@code data} is the tensor in C order. */
    double[] channelNorms(float[] data, long[] shape, int dim) {
        if (frobenius && shape.length - 1 > 2) {
            throw new IllegalArgumentException("Expected at most 2 dimensions, but got "
                    + (shape.length - 1) + " dimensions instead. (fix: the Frobenius norm, as in PyTorch 1.13,"
                    + " takes at most two reduced dimensions; use n=2, which is the same value)");
        }
        int size = (int) shape[dim];
        long inner = 1;
        for (int d = dim + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        long outer = data.length / (size * inner);
        double[] acc = new double[size];
        boolean max = p == Double.POSITIVE_INFINITY && !frobenius;
        boolean min = p == Double.NEGATIVE_INFINITY;
        if (min) {
            java.util.Arrays.fill(acc, Double.POSITIVE_INFINITY);
        }
        for (long o = 0; o < outer; o++) {
            for (int c = 0; c < size; c++) {
                int start = (int) ((o * size + c) * inner);
                double a = acc[c];
                for (int i = 0; i < inner; i++) {
                    double x = Math.abs(data[start + i]);
                    if (max) {
                        a = Math.max(a, x);
                    } else if (min) {
                        a = Math.min(a, x);
                    } else if (p == 0) {
                        a += x != 0 ? 1 : 0;
                    } else if (p == 1) {
                        a += x;
                    } else if (p == 2) {
                        a += x * x;
                    } else {
                        a += Math.pow(x, p);
                    }
                }
                acc[c] = a;
            }
        }
        if (!max && !min && p != 0 && p != 1) {
            for (int c = 0; c < size; c++) {
                acc[c] = p == 2 ? Math.sqrt(acc[c]) : Math.pow(acc[c], 1 / p);
            }
        }
        return acc;
    }

    /**
     * The norm of a channel made of {@code count} consecutive slices whose own norms start at {@code norms[from]}
     * (a channel flattened into several inputs): the slices' norms combined as their entries would be.
     */
    double combine(double[] norms, int from, int count) {
        if (count == 1) {
            return norms[from];
        }
        boolean max = p == Double.POSITIVE_INFINITY && !frobenius;
        boolean min = p == Double.NEGATIVE_INFINITY;
        double acc = min ? Double.POSITIVE_INFINITY : 0;
        for (int i = from; i < from + count; i++) {
            double x = norms[i];
            if (max) {
                acc = Math.max(acc, x);
            } else if (min) {
                acc = Math.min(acc, x);
            } else if (p == 0 || p == 1) {
                acc += x;
            } else if (p == 2) {
                acc += x * x;
            } else {
                acc += Math.pow(x, p);
            }
        }
        if (max || min || p == 0 || p == 1) {
            return acc;
        }
        return p == 2 ? Math.sqrt(acc) : Math.pow(acc, 1 / p);
    }

    /** The norm of a channel of {@code n} entries that all equal 1: for size-normalised comparison. */
    double unitNorm(long n) {
        if (frobenius) {
            return Math.sqrt(n);
        }
        if (Double.isInfinite(p)) {
            return 1;
        }
        if (p == 0) {
            return n;
        }
        return Math.pow(n, 1 / p);
    }

    @Override
    public String toString() {
        if (frobenius) {
            return "fro";
        }
        if (Double.isInfinite(p)) {
            return p > 0 ? "inf" : "-inf";
        }
        return p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p);
    }
}
