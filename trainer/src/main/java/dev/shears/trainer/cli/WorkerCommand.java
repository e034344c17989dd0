package dev.shears.trainer.cli;

import dev.shears.common.cli.KafkaOptions;
import dev.shears.common.process.SerialFilter;
import dev.shears.trainer.cpu.NativeBackend;
import dev.shears.trainer.metrics.MetricsServer;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.worker.Worker;
import dev.shears.trainer.worker.WorkerConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shears worker}: a trainer worker in the consumer group on the commands topic, until
 * SIGTERM or Ctrl-C. Once subscribed it prints one line starting with {@code worker <id> ready},
 * then one line per command applied, and {@code worker <id> stopped} when SIGTERM stopped it.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Runs a trainer worker: takes jobs' commands from Kafka (consumer group), trains, prunes,"
                + " checkpoints into the shared work directory and reports back, until SIGTERM or Ctrl-C.",
                "A step still running at shutdown may finish within --grace-seconds; after that it stops without"
                        + " committing and another worker redoes it from the last checkpoint."})
public final class WorkerCommand implements Callable<Integer> {

    @Mixin
    KafkaOptions kafka;

    @Mixin
    MetricsOptions metrics = new MetricsOptions(0);

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--worker-id", paramLabel = "ID", description = "this worker's id in reports and metrics"
            + " (default: host-pid)")
    String workerId;

    @Option(names = "--work-dir", defaultValue = "runs/work", paramLabel = "DIR",
            description = "the directory shared by all workers: jobs/<job>/ checkpoints and models (default ${DEFAULT-VALUE})")
    Path workDir;

    @Option(names = "--group", defaultValue = WorkerConfig.DEFAULT_GROUP, paramLabel = "GROUP",
            description = "the consumer group of the workers (default ${DEFAULT-VALUE})")
    String group;

    @Option(names = "--session-timeout-ms", defaultValue = "10000", paramLabel = "MS",
            description = "how long the group waits for a silent worker before its jobs move (default ${DEFAULT-VALUE})")
    long sessionTimeoutMs;

    @Option(names = "--grace-seconds", defaultValue = "30", paramLabel = "S",
            description = "at shutdown, how long a running step may take to finish (default ${DEFAULT-VALUE})")
    long graceSeconds;

    @Option(names = "--metrics-linger-seconds", defaultValue = "" + TrainerMetrics.LINGER_SECONDS, paramLabel = "S",
            description = "how long a job's metrics stay after it ended here, so the scrapes see its final values:"
                    + " at least two scrape intervals (default ${DEFAULT-VALUE})")
    long metricsLingerSeconds;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        WorkerConfig config;
        try {
            config = new WorkerConfig(Objects.requireNonNullElseGet(workerId, WorkerConfig::defaultWorkerId), workDir,
                    kafka.cluster(), group,
                    WorkerConfig.Pacing.DEFAULT.withSessionTimeout(Duration.ofMillis(sessionTimeoutMs))
                            .withGrace(Duration.ofSeconds(graceSeconds)),
                    data.config());
            if (metricsLingerSeconds < 0) {
                throw new IllegalArgumentException("--metrics-linger-seconds " + metricsLingerSeconds
                        + " is negative (fix: 0 or more; at least two scrape intervals keeps a job's final values)");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("shears worker: " + e.getMessage());
            return 2;
        }
        String id = config.workerId();
        MetricsServer server = metrics.start();
        try {
            TrainerMetrics trainerMetrics = new TrainerMetrics(MetricsOptions.registry(server), id,
                    Duration.ofSeconds(metricsLingerSeconds), Clock.systemUTC());
            NativeBackend backend = NativeBackend.current();
            trainerMetrics.backend(backend);
            if (server != null) {
                server.health(backend.health());
                server.beforeScrape(trainerMetrics::sweep);
            }
            Worker worker = new Worker(config, trainerMetrics, out);
            Thread hook = new Thread(() -> {
                worker.close();
                out.printf("worker %s stopped%n", id);
                out.flush();
            }, "shears-worker-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            worker.start();
            out.printf("worker %s ready: group %s, topic %s, work dir %s, data roots %s%s%n", id, group,
                    config.cluster().topics().commands(), workDir.toAbsolutePath(), config.data().dataRoots(),
                    server == null ? "" : ", metrics " + server.url());
            out.flush();
            worker.awaitStopped();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is what stopped the worker
            }
            if (worker.failure().isPresent()) {
                System.err.println("shears worker: stopped on an error: " + worker.failure().get());
                return 1;
            }
            return 0;
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }

    /** Runs {@code shears worker} alone. */
    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new WorkerCommand()).execute(args));
    }
}
