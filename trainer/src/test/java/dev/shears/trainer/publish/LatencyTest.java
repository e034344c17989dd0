package dev.shears.trainer.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.LongSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LatencyTest {

    private static final INDArray INPUT = Nd4j.zeros(1);

    /** A clock that only the models move: each call of a model takes the time it is given. */
    private long now;

    @Test
    void aMedianIsPreciseWhenTheMiddleRanksLieWithinTwoPerCentOfIt() {
        // 30 values: 0-based ranks 8..21 bound the median's 95 % interval; what lies outside them does not count.
        double[] tight = IntStream.range(0, 30)
                .mapToDouble(i -> i < 8 ? i / 100.0 : i > 21 ? 5.0 * i : 1.0 + i / 1000.0)
                .toArray();
        double[] spread = IntStream.range(0, 30).mapToDouble(i -> 1.0 + i / 100.0).toArray();

        assertThat(Latency.precise(tight, 30)).isTrue();
        assertThat(Latency.precise(spread, 30)).isFalse();
    }

    @Test
    void steadyModelsStopOnceBothMediansArePrecise() {
        int[] calls = {0};
        Latency.Forward steady = takes(() -> 200_000 + (calls[0]++ % 7 == 0 ? 1_000_000 : 0));

        Latency.Pair pair = Latency.compare(steady, takes(() -> 100_000), INPUT, () -> now);

        assertThat(pair.runs()).isEqualTo(Latency.PRECISE_RUNS);
        assertThat(pair.firstMs()).isEqualTo(0.2);
        assertThat(pair.secondMs()).isEqualTo(0.1);
    }

    @Test
    void aNoisyModelKeepsTheMeasurementGoingToItsLimit() {
        int[] calls = {0};
        Latency.Forward noisy = takes(() -> calls[0]++ % 2 == 0 ? 100_000 : 400_000);

        Latency.Pair pair = Latency.compare(takes(() -> 200_000), noisy, INPUT, () -> now);

        assertThat(pair.runs()).isEqualTo(Latency.RUNS);
        assertThat(pair.firstMs()).isEqualTo(0.2);
    }

    @Test
    void theTimeBudgetEndsASlowMeasurementAfterTheFewestPairs() {
        int[] calls = {0};
        Latency.Forward slowAndNoisy = takes(() -> calls[0]++ % 2 == 0 ? 1_000_000_000 : 3_000_000_000L);

        Latency.Pair pair = Latency.compare(slowAndNoisy, slowAndNoisy, INPUT, () -> now);

        assertThat(pair.runs()).isEqualTo(Latency.MIN_RUNS);
    }

    private Latency.Forward takes(LongSupplier nanos) {
        return input -> {
            now += nanos.getAsLong();
            return input;
        };
    }
}
