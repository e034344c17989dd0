package dev.shears.common.recipe;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code checkpoints} section.
 *
 * @param keepLast how many of the most recent checkpoints are kept, in [1, 1000]; the best one
 *     is kept as well
 * @param every how often a step that trains writes a mid-step checkpoint, so that a crash loses at most that much
 *     of the step: every {@code N} iterations, every so long, or never ({@link Every#DEFAULT}: every 10 minutes)
 */
public record Checkpoints(int keepLast, Every every) {

    static final String SECTION = "checkpoints";

    /** @throws RecipeException when {@code keepLast} is out of range */
    public Checkpoints {
        Problems.require(SECTION, p -> check(keepLast, p));
        Objects.requireNonNull(every, "every");
    }

    /** {@code keepLast} checkpoints, mid-step ones every 10 minutes. */
    public Checkpoints(int keepLast) {
        this(keepLast, Every.DEFAULT);
    }

    /** Keeps the last 3; a mid-step checkpoint every 10 minutes. */
    public static Checkpoints defaults() {
        return new Checkpoints(3);
    }

    static void check(Integer keepLast, Problems p) {
        p.range(SECTION + ".keepLast", keepLast, 1, 1000, "e.g. 3");
    }

    /**
     * How often a step writes a mid-step checkpoint: every {@code iterations} training iterations, or every
     * {@code time}, or never (both 0). Written in a recipe as a whole number of iterations ({@code 500}), a time
     * ({@code 30s}, {@code 10m}, {@code 2h}) or {@code off}.
     *
     * @param iterations iterations between two mid-step checkpoints, in [1, 10^9]; 0 when timed or off
     * @param time the time between two, in [1 s, 24 h]; {@link Duration#ZERO} when counted in iterations or off
     */
    public record Every(long iterations, Duration time) {

        static final long MAX_ITERATIONS = 1_000_000_000L;
        static final Duration MAX_TIME = Duration.ofHours(24);
        private static final Pattern TIME = Pattern.compile("(\\d{1,6})(s|m|h)");
        private static final String EXPECTED = "a whole number of iterations in [1, 1000000000], a time such as 30s,"
                + " 10m or 2h (at most 24h), or off";
        /** Every 10 minutes: a crash loses at most 10 minutes of a step. */
        public static final Every DEFAULT = new Every(0, Duration.ofMinutes(10));
        /** No mid-step checkpoints: a crash loses the whole step. */
        public static final Every OFF = new Every(0, Duration.ZERO);

        /** @throws IllegalArgumentException when out of range, or both given */
        public Every {
            Objects.requireNonNull(time, "time");
            boolean timed = !time.isZero();
            if (iterations < 0 || iterations > MAX_ITERATIONS || time.isNegative() || time.compareTo(MAX_TIME) > 0
                    || iterations > 0 && timed || timed && time.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("checkpoints.every of " + iterations + " iterations and " + time
                        + " is not valid: must be " + EXPECTED);
            }
        }

        /** Every {@code n} iterations. */
        public static Every iterations(long n) {
            return new Every(n, Duration.ZERO);
        }

        /** Every {@code time}. */
        public static Every time(Duration time) {
            return new Every(0, time);
        }

        /** Whether mid-step checkpoints are written at all. */
        public boolean isOn() {
            return iterations > 0 || !time.isZero();
        }

        /**
         * Whether a mid-step checkpoint is due after {@code iterations} iterations and {@code elapsed} time since the
         * step began or since its last mid-step checkpoint.
         */
        public boolean due(long iterations, Duration elapsed) {
            return this.iterations > 0 ? iterations >= this.iterations : !time.isZero() && elapsed.compareTo(time) >= 0;
        }

        /** As a recipe writes it: {@code 500}, {@code 10m}, {@code off}. */
        @Override
        public String toString() {
            if (iterations > 0) {
                return Long.toString(iterations);
            }
            if (time.isZero()) {
                return "off";
            }
            long s = time.toSeconds();
            return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
        }

        /** The value of {@code checkpoints.every} as written; null after adding the problem to {@code p}. */
        static Every parse(String field, String text, boolean wholeNumber, Problems p) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            if (wholeNumber) {
                long n;
                try {
                    n = Long.parseLong(t);
                } catch (NumberFormatException e) {
                    n = -1;
                }
                if (n < 1 || n > MAX_ITERATIONS) {
                    p.add(field, new Problems.Raw(text), "is out of range: must be " + EXPECTED + " (fix: e.g. 500)");
                    return null;
                }
                return iterations(n);
            }
            if (t.equals("off")) {
                return OFF;
            }
            Matcher m = TIME.matcher(t);
            if (!m.matches()) {
                p.add(field, text, "is not " + EXPECTED + " (fix: e.g. 10m, or 500 for every 500 iterations)");
                return null;
            }
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
            if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(MAX_TIME) > 0) {
                p.add(field, text, "is out of range: a time must be in [1s, 24h] (fix: e.g. 10m, or off)");
                return null;
            }
            return time(d);
        }
    }
}
