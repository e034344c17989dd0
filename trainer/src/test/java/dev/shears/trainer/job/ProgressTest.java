package dev.shears.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {

    private static Progress progress() {
        return new Progress(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
    }

    /** The job reads the throughput after its evaluation: the evaluation must not count as training time. */
    @Test
    void throughputStopsAtFinish() throws InterruptedException {
        Progress p = progress();
        p.start("phase", 4, 64);
        for (int i = 0; i < 4; i++) {
            p.tick();
        }
        p.finish();
        double atFinish = p.samplesPerSecond();
        Thread.sleep(50); // e.g. the test-set evaluation that follows a fine-tuning phase
        assertThat(atFinish).isPositive();
        assertThat(p.samplesPerSecond()).isEqualTo(atFinish);
    }

    @Test
    void aNewPhaseRunsTheClockAgain() throws InterruptedException {
        Progress p = progress();
        p.start("first", 1, 64);
        p.tick();
        p.finish();
        p.start("second", 2, 32);
        p.tick();
        double early = p.samplesPerSecond();
        Thread.sleep(50);
        assertThat(p.samplesPerSecond()).isLessThan(early); // running: the clock is not frozen
        p.tick();
        p.finish();
        double atFinish = p.samplesPerSecond();
        Thread.sleep(20);
        assertThat(p.samplesPerSecond()).isEqualTo(atFinish);
    }
}
