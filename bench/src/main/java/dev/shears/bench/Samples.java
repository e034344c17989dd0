package dev.shears.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Durations in milliseconds, summarised by nearest-rank percentiles (no interpolation: every figure was measured). */
final class Samples {
    private final List<Double> ms = new ArrayList<>();

    void add(double millis) {
        ms.add(millis);
    }

    int count() {
        return ms.size();
    }

    /** The nearest-rank percentile, {@code q} in (0, 1]; NaN when empty. */
    double percentile(double q) {
        if (ms.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(ms);
        Collections.sort(sorted);
        int rank = (int) Math.ceil(q * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    double max() {
        return percentile(1.0);
    }

    /** {@code n=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..} */
    String summary() {
        return String.format(Locale.ROOT, "n=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f", count(),
                percentile(0.5), percentile(0.9), percentile(0.99), max());
    }
}
