package dev.shears.scheduler.cli;

import dev.shears.common.cli.KafkaOptions;
import dev.shears.common.process.SerialFilter;
import dev.shears.scheduler.SchedulerConfig;
import dev.shears.scheduler.SchedulerService;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code scheduler}: runs the scheduler service until SIGTERM or SIGINT. When ready it prints one
 * line, {@code scheduler ready on http://HOST:PORT}, to stdout.
 */
@Command(name = "scheduler", mixinStandardHelpOptions = true,
        description = "Run the scheduler: job state machines on Kafka, HTTP API and /metrics.")
public final class SchedulerCommand implements Callable<Integer> {

    /** The start of the line printed once the scheduler is ready. */
    public static final String READY = "scheduler ready on ";

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Mixin
    TokenOption token;

    @Option(names = "--http-port", defaultValue = "" + SchedulerConfig.DEFAULT_PORT,
            description = "HTTP API port, 0 for a free one (default: ${DEFAULT-VALUE}).")
    int httpPort;

    @Option(names = "--http-host", defaultValue = SchedulerConfig.DEFAULT_HOST,
            description = "Address the HTTP API binds (default: ${DEFAULT-VALUE}).")
    String httpHost;

    @Option(names = "--partitions", defaultValue = "" + SchedulerConfig.DEFAULT_PARTITIONS,
            description = "Partitions of the commands and reports topics when created (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--transactional-id", defaultValue = SchedulerConfig.DEFAULT_TRANSACTIONAL_ID,
            description = "Kafka transactional.id; keep it stable so a restart fences the old process"
                    + " (default: ${DEFAULT-VALUE}).")
    String transactionalId;

    @Option(names = "--stall-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "1h",
            description = "How long a job's command may go without a report of it before it is sent again (same key),"
                    + " and after --stall-resends of those the job fails; 0: never. Keep it above the longest step"
                    + " and the longest wait of a job queued behind others on a worker (default: ${DEFAULT-VALUE}).")
    Duration stallTimeout;

    @Option(names = "--stall-resends", defaultValue = "" + SchedulerConfig.DEFAULT_STALL_RESENDS,
            description = "How often a stalled command is sent again before its job fails (default: ${DEFAULT-VALUE}).")
    int stallResends;

    @Option(names = "--retain-ended", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "7d",
            description = "How long an ended job (published, failed, cancelled) is kept before it is forgotten:"
                    + " its state record deleted, its gauges gone; 0: until DELETE /jobs/{id} (default: ${DEFAULT-VALUE}).")
    Duration retainEnded;

    @Option(names = "--http-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "30s",
            description = "How long one HTTP exchange may take to read its request and write its answer"
                    + " (default: ${DEFAULT-VALUE}).")
    Duration httpTimeout;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SchedulerConfig config;
        try {
            SchedulerConfig.Http http = new SchedulerConfig.Http(httpHost, httpPort, token.token(), httpTimeout);
            config = new SchedulerConfig(kafka.cluster(), partitions, transactionalId, http, stallTimeout, stallResends,
                    retainEnded);
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        }
        SchedulerService service;
        try {
            service = SchedulerService.start(config, cause -> {
                err.println("scheduler stopped: " + cause + "; exiting so that it is restarted");
                err.flush();
            });
        } catch (RuntimeException e) {
            StringBuilder why = new StringBuilder(String.valueOf(e.getMessage()));
            for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
                why.append("; caused by ").append(c);
            }
            err.println("scheduler did not start: " + why);
            return 1;
        }
        Thread hook = new Thread(service::close, "shears-scheduler-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println(READY + service.uri());
        out.flush();
        service.awaitStopped();
        if (!service.closed()) {
            err.println("scheduler stopped on an error (see the log above)");
            service.close();
            return 1;
        }
        return 0;
    }

    /** Runs the scheduler alone: {@code java -cp ... dev.shears.scheduler.cli.SchedulerCommand --bootstrap ...}. */
    public static void main(String[] args) {
        SerialFilter.install();
        logToStandardError();
        System.exit(new CommandLine(new SchedulerCommand()).execute(args));
    }

    /**
     * Before the first logger of a process that runs the scheduler alone: logs go to standard error (standard output
     * carries the ready line), unless a logback configuration is given or on the classpath.
     */
    static void logToStandardError() {
        if (System.getProperty("logback.configurationFile") == null
                && SchedulerCommand.class.getClassLoader().getResource("logback.xml") == null) {
            System.setProperty("logback.configurationFile", "dev/shears/scheduler/logback-scheduler.xml");
        }
    }
}
