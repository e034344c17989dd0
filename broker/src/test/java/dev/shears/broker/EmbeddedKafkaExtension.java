package dev.shears.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real single-node KRaft broker ({@link EmbeddedKafka}) for the tests of one class: started before the class's
 * {@code @BeforeAll} methods run, stopped after its {@code @AfterAll} methods, in a temporary data directory that is
 * removed then. The test support of the broker module (its test jar), for every module whose tests need a broker.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();
 *
 * @BeforeAll
 * static void start() {
 *     scheduler = SchedulerService.start(SchedulerConfig.of(kafka.bootstrapServers()));
 * }
 * }</pre>
 *
 * <p>Register it on a static field: the broker is per class, not per test.
 */
public final class EmbeddedKafkaExtension implements BeforeAllCallback, AfterAllCallback {
    private final EmbeddedKafka.Options options;
    private Path dataDir;
    private EmbeddedKafka broker;

    /** A broker with the default {@link EmbeddedKafka.Options} (ports chosen free). */
    public EmbeddedKafkaExtension() {
        this(EmbeddedKafka.Options.defaults());
    }

    public EmbeddedKafkaExtension(EmbeddedKafka.Options options) {
        this.options = options;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dataDir = Files.createTempDirectory("shears-kafka-");
        broker = EmbeddedKafka.start(dataDir, options);
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            if (broker != null) {
                broker.close();
            }
        } finally {
            broker = null;
            if (dataDir != null) {
                try (Stream<Path> all = Files.walk(dataDir)) {
                    all.sorted(Comparator.reverseOrder()).forEach(EmbeddedKafkaExtension::delete);
                }
                dataDir = null;
            }
        }
    }

    /**
     * The running broker.
     *
     * @throws IllegalStateException outside the class's tests (the extension is not registered on a static field)
     */
    public EmbeddedKafka broker() {
        if (broker == null) {
            throw new IllegalStateException(
                    "no broker: it runs from before @BeforeAll to after @AfterAll (fix: register"
                            + " the extension on a static field with @RegisterExtension)");
        }
        return broker;
    }

    /** {@code 127.0.0.1:<port>} of the running broker. */
    public String bootstrapServers() {
        return broker().bootstrapServers();
    }

    /** The broker's data directory. */
    public Path dataDir() {
        return broker().dataDir();
    }

    /**
     * Closes the broker and starts a new {@link EmbeddedKafka} on the same data directory and port, as a launcher run
     * again would; the extension stops that one at the end.
     */
    public EmbeddedKafka reopen() {
        int port = broker().port();
        broker.close();
        broker = EmbeddedKafka.start(dataDir, options.withPort(port));
        return broker;
    }

    private static void delete(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("could not remove the broker's data directory: " + e.getMessage(), e);
        }
    }
}
