package dev.shears.prune;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How sparse each parameter is, and all of them together: the table PyTorch's tutorial prints by
 * hand ({@code 100 * (w == 0).sum() / w.nelement()}), as an object and as text.
 *
 * @param parameters one entry per parameter, in model order
 * @param total the sum over all parameters (its shape is empty)
 */
public record SparsityReport(List<Entry> parameters, Entry total) {

    /**
     * @param name the parameter's PyTorch-style name
     * @param shape its shape in PyTorch layout
     * @param size its number of entries
     * @param zeros entries of the effective value equal to 0
     * @param masked entries whose mask is 0 (0 when not pruned)
     */
    public record Entry(String name, long[] shape, long size, long zeros, long masked) {
        /** Fraction of entries that are zero, in [0, 1]. */
        public double sparsity() {
            return size == 0 ? 0 : (double) zeros / size;
        }
    }

    public SparsityReport {
        parameters = List.copyOf(parameters);
    }

    static SparsityReport of(List<Entry> entries) {
        long size = 0;
        long zeros = 0;
        long masked = 0;
        for (Entry e : entries) {
            size += e.size();
            zeros += e.zeros();
            masked += e.masked();
        }
        return new SparsityReport(entries, new Entry("global", new long[0], size, zeros, masked));
    }

    /** The entry for {@code name}. */
    public Entry entry(String name) {
        return parameters.stream().filter(e -> e.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no parameter '" + name + "' in this report"));
    }

    /** A fixed-width table: name, shape, size, zeros, sparsity; the global line last. */
    @Override
    public String toString() {
        int width = Math.max(9, parameters.stream().mapToInt(e -> e.name().length()).max().orElse(0));
        StringBuilder sb = new StringBuilder();
        String header = String.format(Locale.ROOT, "%-" + width + "s  %-18s %12s %12s %9s%n", "parameter", "shape",
                "size", "zeros", "sparsity");
        sb.append(header);
        sb.append("-".repeat(header.length() - 1)).append('\n');
        for (Entry e : parameters) {
            sb.append(line(width, e.name(), Arrays.toString(e.shape()), e));
        }
        sb.append("-".repeat(header.length() - 1)).append('\n');
        sb.append(line(width, "global", "", total));
        return sb.toString();
    }

    private static String line(int width, String name, String shape, Entry e) {
        return String.format(Locale.ROOT, "%-" + width + "s  %-18s %12d %12d %8.2f%%%n", name, shape, e.size(),
                e.zeros(), 100 * e.sparsity());
    }
}
