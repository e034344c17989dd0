package dev.shears.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.trainer.metrics.MetricsServer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The metrics options the trainer's commands share: one declaration, each command's own default port. */
class MetricsOptionsTest {

    @Test
    void aWorkerServesOnAnyFreePortAndAWholeJobOn9400UnlessTold() {
        WorkerCommand worker = new WorkerCommand();
        new CommandLine(worker).parseArgs("--bootstrap", "127.0.0.1:9092");
        TrainCommand train = new TrainCommand();
        new CommandLine(train).parseArgs("--recipe", "recipe.yaml", "--out", "out");
        TrainCommand told = new TrainCommand();
        new CommandLine(told).parseArgs("--recipe", "recipe.yaml", "--out", "out", "--metrics-port", "9500");

        assertThat(worker.metrics.port).isZero();
        assertThat(train.metrics.port).isEqualTo(9400);
        assertThat(told.metrics.port).isEqualTo(9500);
        assertThat(worker.metrics.host).isEqualTo(train.metrics.host).isEqualTo("127.0.0.1");
    }

    @Test
    void metricsPortMinusOneServesNothingAndOtherPortsServeTheRegistry() throws Exception {
        WorkerCommand off = new WorkerCommand();
        new CommandLine(off).parseArgs("--bootstrap", "127.0.0.1:9092", "--metrics-port", "-1");
        assertThat(off.metrics.start()).isNull();

        WorkerCommand on = new WorkerCommand();
        new CommandLine(on).parseArgs("--bootstrap", "127.0.0.1:9092");
        try (MetricsServer server = on.metrics.start()) {
            assertThat(server.url()).startsWith("http://127.0.0.1:");
            assertThat(MetricsOptions.registry(server)).isSameAs(server.registry());
        }
    }
}
