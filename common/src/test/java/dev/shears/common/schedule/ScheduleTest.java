package dev.shears.common.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.shears.common.recipe.ScheduleSpec;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ScheduleTest {

    @Test
    void cubicScheduleFollowsZhuAndGuptaForTenSteps() {
        Schedule schedule = Schedule.polynomial(0.0, 0.9, 10, 3);

        assertThat(schedule.steps()).isEqualTo(10);
        for (int k = 1; k <= 10; k++) {
            double expected = 0.9 * (1 - Math.pow((10 - k) / 10.0, 3));
            SchedulePoint point = schedule.points().get(k - 1);
            assertThat(point.step()).isEqualTo(k);
            assertThat(point.targetSparsity()).as("step %d", k).isCloseTo(expected, within(1e-12));
            assertThat(point.rewind()).isFalse();
        }
    }

    @Test
    void cubicScheduleHitsKnownValues() {
        List<SchedulePoint> points = Schedule.polynomial(0.0, 0.9, 10, 3).points();

        assertThat(points.get(0).targetSparsity()).isCloseTo(0.2439, within(1e-12)); // 0.9 * (1 - 0.9^3)
        assertThat(points.get(4).targetSparsity()).isCloseTo(0.7875, within(1e-12)); // 0.9 * (1 - 0.5^3)
        assertThat(points.get(8).targetSparsity()).isCloseTo(0.8991, within(1e-12)); // 0.9 * (1 - 0.1^3)
    }

    @Test
    void polynomialScheduleStartsAboveANonZeroInitialSparsity() {
        Schedule schedule = Schedule.polynomial(0.5, 0.8, 4, 2);

        double[] expected = {0.8 - 0.3 * 0.5625, 0.8 - 0.3 * 0.25, 0.8 - 0.3 * 0.0625, 0.8};
        assertThat(schedule.points()).extracting(SchedulePoint::targetSparsity)
                .containsExactly(expected[0], expected[1], expected[2], expected[3]);
    }

    static Stream<Arguments> polynomialCases() {
        return Stream.of(
                Arguments.of(0.0, 0.9, 10, 3.0),
                Arguments.of(0.0, 0.9, 1, 3.0),
                Arguments.of(0.1, 0.95, 7, 0.5),
                Arguments.of(0.0, 0.123456789, 10_000, 3.0),
                Arguments.of(0.3, 0.3, 5, 3.0),
                Arguments.of(0.0, 0.99, 3, 100.0));
    }

    @ParameterizedTest(name = "{0} -> {1} in {2} steps, power {3}")
    @MethodSource("polynomialCases")
    void polynomialScheduleEndsExactlyAtTheFinalSparsity(double initial, double fin, int steps, double power) {
        Schedule schedule = Schedule.polynomial(initial, fin, steps, power);

        assertThat(schedule.finalSparsity()).isEqualTo(fin);
        assertThat(schedule.points()).hasSize(steps);
    }

    @ParameterizedTest(name = "{0} -> {1} in {2} steps, power {3}")
    @MethodSource("polynomialCases")
    void polynomialScheduleNeverDecreasesAndStaysBetweenItsEnds(double initial, double fin, int steps, double power) {
        List<SchedulePoint> points = Schedule.polynomial(initial, fin, steps, power).points();

        for (int i = 0; i < points.size(); i++) {
            double t = points.get(i).targetSparsity();
            assertThat(t).isBetween(initial, fin);
            if (i > 0) {
                assertThat(t).isGreaterThanOrEqualTo(points.get(i - 1).targetSparsity());
            }
        }
    }

    @Test
    void linearScheduleTakesEqualSteps() {
        List<SchedulePoint> points = Schedule.linear(0.0, 0.5, 5).points();

        assertThat(points).hasSize(5);
        for (int k = 1; k <= 5; k++) {
            assertThat(points.get(k - 1).targetSparsity()).isCloseTo(0.1 * k, within(1e-15));
        }
    }

    @Test
    void constantScheduleTargetsTheFinalSparsityEveryStep() {
        assertThat(Schedule.constant(0.6, 3).points()).containsExactly(
                new SchedulePoint(1, 0.6, false), new SchedulePoint(2, 0.6, false), new SchedulePoint(3, 0.6, false));
    }

    @Test
    void oneShotScheduleIsASingleStep() {
        assertThat(Schedule.oneShot(0.8).points()).containsExactly(new SchedulePoint(1, 0.8, false));
    }

    @Test
    void explicitTargetsBecomeOneStepEach() {
        assertThat(Schedule.targets(List.of(0.5, 0.75, 0.9)).points()).containsExactly(
                new SchedulePoint(1, 0.5, false), new SchedulePoint(2, 0.75, false), new SchedulePoint(3, 0.9, false));
    }

    @Test
    void decreasingTargetsAreRefused() {
        assertThatThrownBy(() -> Schedule.targets(List.of(0.5, 0.4)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("schedule step 2 targets 0.4, below step 1's 0.5");
    }

    @Test
    void lotteryTicketPrunesTheRateOfWhatRemainsEachRoundAndClampsTheLast() {
        Schedule schedule = Schedule.lotteryTicket(0.9, 0.2);

        // 1 - 0.8^10 = 0.8926 < 0.9 <= 1 - 0.8^11 = 0.9141: eleven rounds, the last clamped to 0.9
        assertThat(schedule.steps()).isEqualTo(11);
        for (int k = 1; k <= 10; k++) {
            assertThat(schedule.points().get(k - 1).targetSparsity()).as("round %d", k)
                    .isCloseTo(1 - Math.pow(0.8, k), within(1e-12));
        }
        assertThat(schedule.finalSparsity()).isEqualTo(0.9);
        assertThat(schedule.points()).allSatisfy(p -> assertThat(p.rewind()).isTrue());
    }

    @Test
    void lotteryTicketAddsNoSliverRoundWhenARoundLandsOnTheTarget() {
        assertThat(Schedule.lotteryTicket(0.75, 0.5).points()).extracting(SchedulePoint::targetSparsity)
                .containsExactly(0.5, 0.75);
        // 1 - 0.9^2 is 0.18999999999999995 in doubles: still round 2, not a third round
        assertThat(Schedule.lotteryTicket(0.19, 0.1).points()).extracting(SchedulePoint::targetSparsity)
                .containsExactly(0.09999999999999998, 0.19);
    }

    @Test
    void lotteryTicketWithATargetBelowTheRateIsOneRound() {
        assertThat(Schedule.lotteryTicket(0.1, 0.2).points()).containsExactly(new SchedulePoint(1, 0.1, true));
    }

    @Test
    void lotteryTicketRefusesARateNeedingTooManyRounds() {
        assertThatThrownBy(() -> Schedule.lotteryTicket(0.9, 1e-6))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs more than 10000 rounds");
    }

    @Test
    void recipeSectionsBuildTheSameSchedulesAsTheFactories() {
        assertThat(Schedule.of(ScheduleSpec.polynomial(0.0, 0.9, 10, 3)).points())
                .isEqualTo(Schedule.polynomial(0.0, 0.9, 10, 3).points());
        assertThat(Schedule.of(ScheduleSpec.linear(0.1, 0.5, 4)).points())
                .isEqualTo(Schedule.polynomial(0.1, 0.5, 4, 1).points());
        assertThat(Schedule.of(ScheduleSpec.constant(0.5, 2)).points())
                .isEqualTo(Schedule.constant(0.5, 2).points());
        assertThat(Schedule.of(ScheduleSpec.oneShot(0.7)).points())
                .isEqualTo(Schedule.oneShot(0.7).points());
        assertThat(Schedule.of(ScheduleSpec.points(List.of(0.3, 0.6))).points())
                .isEqualTo(Schedule.targets(List.of(0.3, 0.6)).points());
        assertThat(Schedule.of(ScheduleSpec.lotteryTicket(0.9, 0.2, 500)).points())
                .isEqualTo(Schedule.lotteryTicket(0.9, 0.2).points());
    }

    @Test
    void polynomialRefusesAnInitialSparsityAboveTheFinal() {
        assertThatThrownBy(() -> Schedule.polynomial(0.95, 0.9, 10, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("initialSparsity 0.95 is out of range: must be in [0, finalSparsity 0.9]");
    }

    @Test
    void polynomialRefusesZeroSteps() {
        assertThatThrownBy(() -> Schedule.polynomial(0, 0.9, 0, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("steps 0 is out of range: must be in [1, 10000]");
    }

    @Test
    void schedulePointRefusesATargetOfOneOrMore() {
        assertThatThrownBy(() -> new SchedulePoint(1, 1.0, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("targetSparsity 1.0 of step 1 is out of range: must be in [0, 1)");
    }

    @Test
    void schedulePointRefusesStepZero() {
        assertThatThrownBy(() -> new SchedulePoint(0, 0.5, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("schedule step 0 is out of range");
    }
}
