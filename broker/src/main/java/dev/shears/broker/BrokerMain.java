package dev.shears.broker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears broker}: a single-node Kafka broker on 127.0.0.1 in the foreground, until Ctrl-C.
 *
 * <pre>
 * ./shears broker --data runs/kafka --port 9092
 * </pre>
 *
 * Prints {@code bootstrap.servers=127.0.0.1:<port>} once the broker answers. Ctrl-C (or SIGTERM) stops it cleanly; the
 * data directory is kept, and a later run on it finds its topics and records again.
 */
@Command(name = "broker", mixinStandardHelpOptions = true, version = "shears 0.1.0",
        description = "Runs a single-node Kafka broker (KRaft) on 127.0.0.1 in the foreground until Ctrl-C.",
        sortOptions = false)
public final class BrokerMain implements Callable<Integer> {

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "runs/kafka",
            description = "Data directory, created and formatted when new, reused as it is otherwise (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "9092",
            description = "Port for clients on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--controller-port", paramLabel = "PORT", defaultValue = "0",
            description = "Port of the KRaft controller listener; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int controllerPort;

    @Option(names = {"-c", "--config"}, paramLabel = "NAME=VALUE",
            description = "A broker setting (server.properties) over Shears' defaults; repeatable.")
    Map<String, String> config = new LinkedHashMap<>();

    @Option(names = "--startup-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long the broker may take to start (default: ${DEFAULT-VALUE}).")
    int startupTimeoutSeconds;

    private volatile boolean stopping;

    @Override
    public Integer call() throws Exception {
        EmbeddedKafka.Options options = EmbeddedKafka.Options.defaults()
                .withPort(port)
                .withControllerPort(controllerPort)
                .withStartupTimeout(Duration.ofSeconds(startupTimeoutSeconds));
        for (Map.Entry<String, String> e : config.entrySet()) {
            options = options.withBrokerProperty(e.getKey(), e.getValue());
        }
        EmbeddedKafka kafka;
        try {
            kafka = EmbeddedKafka.start(data, options);
        } catch (IllegalStateException e) {
            System.err.println("shears: " + e.getMessage());
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping = true;
            System.err.println("shears: stopping the broker ...");
            kafka.close();
        }, "shears-broker-main-stop"));

        System.out.printf("Kafka %s broker ready in %d ms%n", EmbeddedKafka.kafkaVersion(),
                kafka.lastStartupTime().toMillis());
        System.out.println("bootstrap.servers=" + kafka.bootstrapServers());
        System.out.printf("data: %s%nlog:  %s%nCtrl-C stops it.%n", kafka.dataDir(), kafka.logFile());
        System.out.flush();

        int status = kafka.waitForExit();
        if (stopping) {
            return 0;
        }
        // Exited on its own: a crash, or someone else stopped it.
        Thread.sleep(200); // a SIGTERM to the whole process group reaches this JVM's hooks a moment later
        if (stopping) {
            return 0;
        }
        System.err.printf("shears: the broker exited with status %d. End of %s:%n%s%n", status, kafka.logFile(),
                kafka.logExcerpt());
        return 1;
    }
}
