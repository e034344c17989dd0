package dev.shears.trainer.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import dev.shears.broker.ManualClock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerMetricsTest {
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final ManualClock clock = new ManualClock();
    final TrainerMetrics metrics = new TrainerMetrics(registry, "w1", Duration.ofMinutes(2), clock);

    long metersOf(String job) {
        return registry.getMeters().stream().map(Meter::getId).filter(id -> job.equals(id.getTag("job"))).count();
    }

    void everyMetricOf(String job) {
        metrics.jobOpened(job);
        metrics.sparsity(job, 0.5, 0.49, Map.of("fc1.weight", 0.5));
        metrics.evaluation(job, "test", 0.9, 0.3);
        metrics.step(job, 1, 3);
        metrics.throughput(job, 1000);
        metrics.samplesTrained(job, 64);
        metrics.stepDuration(job, Duration.ofSeconds(1));
        metrics.checkpointDuration(job, Duration.ofMillis(10));
        metrics.restored(job, 1);
    }

    @Test
    void removesEveryMeterOfAJobAndNoOtherOnes() {
        everyMetricOf("job-a");
        everyMetricOf("job-b");
        metrics.eventConsumed("PruneStep");
        metrics.consumerLag(3);
        int before = registry.getMeters().size();
        long ofA = metersOf("job-a");

        metrics.jobEnded("job-a");
        clock.advance(Duration.ofMinutes(2));
        metrics.sweep();

        assertThat(metersOf("job-a")).isZero();
        assertThat(registry.getMeters()).hasSize((int) (before - ofA));
        assertThat(registry.get("shears.accuracy").tag("job", "job-b").gauge().value()).isEqualTo(0.9);
        assertThat(registry.get("shears.events.consumed").counter().count()).isEqualTo(1);
    }

    @Test
    void aJobThatComesBackRegistersItsMetersAgain() {
        everyMetricOf("job-a");
        metrics.jobEnded("job-a");
        clock.advance(Duration.ofMinutes(3));
        metrics.sweep();
        assertThat(metersOf("job-a")).isZero();

        metrics.evaluation("job-a", "test", 0.8, 0.4);
        metrics.restored("job-a", 2);

        assertThat(registry.get("shears.accuracy").tag("job", "job-a").gauge().value()).isEqualTo(0.8);
        assertThat(registry.get("shears.restore.steps.lost").tag("job", "job-a").counter().count()).isEqualTo(2);
    }

    @Test
    void aJobsMetersStayForTheLingerAfterItEndedSoTheScrapesSeeItsFinalValues() {
        everyMetricOf("job-a");
        long ofA = metersOf("job-a");

        metrics.jobEnded("job-a");
        clock.advance(Duration.ofSeconds(119));
        metrics.sweep();
        assertThat(metersOf("job-a")).isEqualTo(ofA);
        assertThat(registry.get("shears.checkpoint.duration").tag("job", "job-a").timer().count()).isEqualTo(1);

        clock.advance(Duration.ofSeconds(1));
        metrics.jobOpened("job-b"); // any job opening or ending sweeps, not only a scrape
        assertThat(metersOf("job-a")).isZero();
    }

    @Test
    void aJobThatRecordsAMetricWhileItsMetersLingerKeepsThem() {
        everyMetricOf("job-a");
        metrics.jobEnded("job-a");
        clock.advance(Duration.ofMinutes(1));

        metrics.step("job-a", 2, 3); // e.g. it came back from another worker

        clock.advance(Duration.ofMinutes(10));
        metrics.sweep();
        assertThat(registry.get("shears.step").tag("job", "job-a").gauge().value()).isEqualTo(2);
        assertThat(registry.get("shears.restores").tag("job", "job-a").counter().count()).isEqualTo(1);
    }

    @Test
    void noLingerRemovesAJobsMetersWhenItEnds() {
        TrainerMetrics at = new TrainerMetrics(registry, "w1", Duration.ZERO, clock);
        everyMetricOf("job-a");

        at.jobEnded("job-a");

        assertThat(metersOf("job-a")).isZero();
        assertThatThrownBy(() -> new TrainerMetrics(registry, "w1", Duration.ofSeconds(-1), clock))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fix:");
    }
}
