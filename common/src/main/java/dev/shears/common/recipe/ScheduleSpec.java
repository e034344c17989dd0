package dev.shears.common.recipe;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The {@code schedule} section: the sparsity targets of the pruning steps. Turn it into steps
 * with {@code dev.shears.common.schedule.Schedule.of(spec)}.
 *
 * <p>Which fields a kind takes:
 * <table>
 *   <caption>fields by kind</caption>
 *   <tr><th>kind</th><th>fields</th></tr>
 *   <tr><td>polynomial</td><td>initialSparsity, finalSparsity, steps, power</td></tr>
 *   <tr><td>linear</td><td>initialSparsity, finalSparsity, steps</td></tr>
 *   <tr><td>constant</td><td>finalSparsity, steps</td></tr>
 *   <tr><td>one_shot</td><td>finalSparsity</td></tr>
 *   <tr><td>points</td><td>points (finalSparsity is the last point)</td></tr>
 *   <tr><td>lottery_ticket</td><td>finalSparsity, rate, rewindIteration</td></tr>
 * </table>
 *
 * @param kind the shape of the schedule
 * @param initialSparsity in [0, finalSparsity]; 0 for kinds other than polynomial and linear
 * @param finalSparsity the last target, in [0, 1); for {@code points} the last point
 * @param steps number of pruning steps in [1, 10000]; present for polynomial, linear and constant
 * @param power the polynomial's exponent in (0, 100] (3 is Zhu &amp; Gupta's cubic); present
 *     exactly for polynomial
 * @param points strictly increasing targets in (0, 1), at most 10000; non-empty exactly for points
 * @param rate the fraction of the remaining weights pruned each round, in (0, 1); present exactly
 *     for lottery_ticket
 * @param rewindIteration the training iteration whose weights the survivors are rewound to after
 *     each round (0 = the initialisation), in [0, 10^9]; present exactly for lottery_ticket
 */
public record ScheduleSpec(
        Kind kind,
        double initialSparsity,
        double finalSparsity,
        OptionalInt steps,
        OptionalDouble power,
        List<Double> points,
        OptionalDouble rate,
        OptionalLong rewindIteration) {

    static final String SECTION = "schedule";
    static final int MAX_STEPS = 10_000;
    /** The rate lottery_ticket gets when none is given. */
    public static final double DEFAULT_RATE = 0.2;
    /** The rewind point lottery_ticket gets when none is given: the initialisation. */
    public static final long DEFAULT_REWIND_ITERATION = 0;

    /** The shape of a schedule. */
    public enum Kind {
        /** {@code s_k = s_f + (s_i - s_f)(1 - k/n)^power}: TF-MOT's PolynomialDecay, Zhu &amp; Gupta. */
        POLYNOMIAL,
        /** Polynomial with power 1. */
        LINEAR,
        /** Every step prunes to {@code finalSparsity}. */
        CONSTANT,
        /** One step to {@code finalSparsity}. */
        ONE_SHOT,
        /** Explicit targets, one per step. */
        POINTS,
        /** Iterative magnitude pruning with rewinding: round k targets {@code 1 - (1 - rate)^k}. */
        LOTTERY_TICKET;

        /** Whether {@code initialSparsity} applies. */
        public boolean usesInitialSparsity() {
            return this == POLYNOMIAL || this == LINEAR;
        }

        /** Whether {@code steps} applies; the other kinds derive their number of steps. */
        public boolean usesSteps() {
            return this == POLYNOMIAL || this == LINEAR || this == CONSTANT;
        }

        /** Whether {@code power} applies. */
        public boolean usesPower() {
            return this == POLYNOMIAL;
        }

        /** Whether {@code points} applies. */
        public boolean usesPoints() {
            return this == POINTS;
        }

        /** Whether {@code rate} and {@code rewindIteration} apply. */
        public boolean isLotteryTicket() {
            return this == LOTTERY_TICKET;
        }

        /** The recipe's spelling, e.g. {@code one_shot}. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @throws RecipeException listing every field out of range or given for the wrong kind */
    public ScheduleSpec {
        List<Double> ps = List.copyOf(points);
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(steps, "steps");
        Objects.requireNonNull(power, "power");
        Objects.requireNonNull(rate, "rate");
        Objects.requireNonNull(rewindIteration, "rewindIteration");
        Problems.require(SECTION, p -> check(kind, initialSparsity, finalSparsity, steps, power, ps, rate,
                rewindIteration, p));
        points = ps;
    }

    /** Zhu &amp; Gupta's gradual pruning: cubic ({@code power} 3) from 0 to 0.9 in 10 steps by default. */
    public static ScheduleSpec polynomial(double initialSparsity, double finalSparsity, int steps, double power) {
        return new ScheduleSpec(Kind.POLYNOMIAL, initialSparsity, finalSparsity, OptionalInt.of(steps),
                OptionalDouble.of(power), List.of(), OptionalDouble.empty(), OptionalLong.empty());
    }

    public static ScheduleSpec linear(double initialSparsity, double finalSparsity, int steps) {
        return new ScheduleSpec(Kind.LINEAR, initialSparsity, finalSparsity, OptionalInt.of(steps),
                OptionalDouble.empty(), List.of(), OptionalDouble.empty(), OptionalLong.empty());
    }

    public static ScheduleSpec constant(double finalSparsity, int steps) {
        return new ScheduleSpec(Kind.CONSTANT, 0, finalSparsity, OptionalInt.of(steps),
                OptionalDouble.empty(), List.of(), OptionalDouble.empty(), OptionalLong.empty());
    }

    public static ScheduleSpec oneShot(double finalSparsity) {
        return new ScheduleSpec(Kind.ONE_SHOT, 0, finalSparsity, OptionalInt.empty(),
                OptionalDouble.empty(), List.of(), OptionalDouble.empty(), OptionalLong.empty());
    }

    /** @param targets strictly increasing, in (0, 1); the last is the final sparsity */
    public static ScheduleSpec points(List<Double> targets) {
        double last = targets.isEmpty() ? 0 : targets.get(targets.size() - 1);
        return new ScheduleSpec(Kind.POINTS, 0, last, OptionalInt.empty(),
                OptionalDouble.empty(), targets, OptionalDouble.empty(), OptionalLong.empty());
    }

    public static ScheduleSpec lotteryTicket(double finalSparsity, double rate, long rewindIteration) {
        return new ScheduleSpec(Kind.LOTTERY_TICKET, 0, finalSparsity, OptionalInt.empty(),
                OptionalDouble.empty(), List.of(), OptionalDouble.of(rate), OptionalLong.of(rewindIteration));
    }

    /** Polynomial, power 3, from 0 to 0.9 in 10 steps. */
    public static ScheduleSpec defaults() {
        return polynomial(0.0, 0.9, 10, 3);
    }

    /** The checks; a null argument was already reported as unreadable and is skipped. */
    static void check(Kind kind, Double initialSparsity, Double finalSparsity, OptionalInt steps,
            OptionalDouble power, List<Double> points, OptionalDouble rate,
            OptionalLong rewindIteration, Problems p) {
        String f = SECTION + ".";
        if (kind == null) {
            return;
        }
        if (!kind.usesPoints()) {
            p.range(f + "finalSparsity", finalSparsity, 0, true, 1, false,
                    "a sparsity is the fraction of weights pruned, e.g. 0.9");
        } else if (points != null && !points.isEmpty() && points.get(points.size() - 1) != null
                && finalSparsity != null && !finalSparsity.equals(points.get(points.size() - 1))) {
            p.add(f + "finalSparsity", finalSparsity, "does not match the last of schedule.points, "
                    + Problems.num(points.get(points.size() - 1)) + " (fix: remove finalSparsity; kind points"
                    + " ends at its last point)");
        }
        if (initialSparsity != null) {
            if (kind.usesInitialSparsity()) {
                boolean finalOk = finalSparsity != null && finalSparsity >= 0 && finalSparsity < 1;
                if (finalOk && !(initialSparsity >= 0 && initialSparsity <= finalSparsity)) {
                    p.add(f + "initialSparsity", initialSparsity, "is out of range: must be in [0, finalSparsity "
                            + Problems.num(finalSparsity) + "] (fix: the schedule only prunes more, never less)");
                } else if (!finalOk) {
                    p.range(f + "initialSparsity", initialSparsity, 0, true, 1, false, null);
                }
            } else if (initialSparsity != 0) {
                p.add(f + "initialSparsity", initialSparsity,
                        Problems.notUsed("kind", kind, Kind::usesInitialSparsity, ""));
            }
        }
        if (p.takenOnlyBy(f + "steps", steps, "kind", kind, Kind::usesSteps,
                "a number of steps in [1, " + MAX_STEPS + "] (fix: e.g. steps: 10)", stepsHint(kind))) {
            p.range(f + "steps", steps.getAsInt(), 1, MAX_STEPS, "e.g. 10");
        }
        if (p.takenOnlyBy(f + "power", power, "kind", kind, Kind::usesPower,
                "a power in (0, 100] (fix: e.g. power: 3)")) {
            p.range(f + "power", power.getAsDouble(), 0, false, 100, true, "3 is Zhu & Gupta's cubic, 1 is linear");
        }
        if (points != null) {
            checkPoints(kind, points, p);
        }
        if (p.takenOnlyBy(f + "rate", rate, "kind", kind, Kind::isLotteryTicket,
                "a rate in (0, 1) (fix: e.g. rate: 0.2)")) {
            double r = rate.getAsDouble();
            p.range(f + "rate", r, 0, false, 1, false, "e.g. 0.2 prunes 20 % of what remains each round");
            if (r > 0 && r < 1 && finalSparsity != null && finalSparsity > 0 && finalSparsity < 1) {
                double rounds = Math.ceil(Math.log1p(-finalSparsity) / Math.log1p(-r) - 1e-9);
                if (rounds > MAX_STEPS) {
                    p.add(f + "rate", rate, "needs about " + Problems.num(rounds) + " rounds to reach finalSparsity "
                            + Problems.num(finalSparsity) + ", more than " + MAX_STEPS
                            + " (fix: raise the rate, e.g. 0.2)");
                }
            }
        }
        if (p.takenOnlyBy(f + "rewindIteration", rewindIteration, "kind", kind, Kind::isLotteryTicket,
                "the iteration to rewind to (fix: e.g. rewindIteration: 0 for the initialisation)")) {
            p.range(f + "rewindIteration", rewindIteration.getAsLong(), 0, 1_000_000_000L,
                    "0 rewinds to the initialisation");
        }
    }

    private static void checkPoints(Kind kind, List<Double> points, Problems p) {
        String field = SECTION + ".points";
        if (!kind.usesPoints()) {
            if (!points.isEmpty()) {
                p.add(field, points, Problems.notUsed("kind", kind, Kind::usesPoints, ""));
            }
            return;
        }
        if (points.isEmpty()) {
            p.missing(field, "kind points needs at least one target (fix: e.g. points: [0.5, 0.75, 0.9])");
            return;
        }
        if (points.size() > MAX_STEPS) {
            p.add(field, points, "has " + points.size() + " targets: at most " + MAX_STEPS);
        }
        for (int i = 0; i < points.size(); i++) {
            Double v = points.get(i);
            if (v == null) {
                continue;
            }
            p.range(field + "[" + i + "]", v, 0, false, 1, false, "a sparsity is the fraction of weights pruned");
            Double previous = i > 0 ? points.get(i - 1) : null;
            if (previous != null && !(v > previous)) {
                p.add(field + "[" + i + "]", v, "is not above the point before it, " + Problems.num(previous)
                        + ": targets must be strictly increasing (fix: sort them and drop repeats)");
            }
        }
    }

    private static String stepsHint(Kind kind) {
        return switch (kind) {
            case ONE_SHOT -> "; one_shot is always one step";
            case POINTS -> "; kind points has one step per point";
            case LOTTERY_TICKET -> "; lottery_ticket runs as many rounds as reaching finalSparsity takes";
            default -> "";
        };
    }
}
