package dev.shears.broker;

import dev.shears.common.kafka.KafkaTopics;
import dev.shears.common.process.Jvm;
import dev.shears.common.process.ParentWatch;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) run from Kafka's own Maven artifacts in a
 * JVM of its own, on 127.0.0.1.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.start(dataDir)) {
 *     kafka.createTopics(new NewTopic("jobs", 3, (short) 1));
 *     String bootstrap = kafka.bootstrapServers();      // 127.0.0.1:<port>
 *     ...
 *     kafka.kill();                                     // SIGKILL, as a crash
 *     kafka.restart();                                  // same data directory, same ports
 * }
 * }</pre>
 *
 * <p>The broker runs as {@link BrokerProcess} in a separate {@code java} process, on the classpath of this JVM (or on
 * the one given by {@link Options#withClasspath}): it can be stopped cleanly (SIGTERM, Kafka's controlled shutdown),
 * killed (SIGKILL) and started again on the same data while clients keep running. It exits by itself when this JVM
 * exits. Its output goes to {@code broker.log} in the data directory, at WARN except its start and shutdown lines.
 *
 * <p>Layout of the data directory: {@code server.properties} (written at each start), {@code kafka-logs/} (the
 * partitions and the KRaft metadata log), {@code broker.log}. A directory formatted earlier is used as it is: its
 * cluster id and its data are kept.
 *
 * <p>The configuration is the one a single node needs: replication factor 1 and min ISR 1 for the internal topics
 * (otherwise consumer groups and transactions hang without an error), no initial rebalance delay, a few partitions for
 * the internal topics, topics created explicitly ({@code auto.create.topics.enable=false}). {@link Options} overrides
 * any of it.
 *
 * <p>Starting, stopping, killing and restarting are synchronized (a shutdown hook stops the broker when this JVM exits).
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final String LOGBACK_CONFIG = "dev/shears/broker/broker-logback.xml";
    private static final int LOG_TAIL_LINES = 30;
    private static final String START_MARKER = "===== shears: broker start";
    private static final InetAddress LOCALHOST = loopbackIpv4();

    private final Path dataDir;
    private final Options options;
    private final int port;
    private final int controllerPort;
    private final String generatedClusterId = Uuid.randomUuid().toString();
    private final Thread shutdownHook;

    private Process process;
    private OutputStream parentPipe;
    private volatile String clusterId;
    private volatile Duration lastStartup;
    private int starts;

    private EmbeddedKafka(Path dataDir, Options options) {
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.options = options;
        this.port = options.port != 0 ? options.port : freePort(-1);
        this.controllerPort = options.controllerPort != 0 ? options.controllerPort : freePort(port);
        this.shutdownHook = new Thread(this::stopQuietly, "shears-broker-stop");
    }

    /** Starts a broker on {@code dataDir} (created and formatted when needed) with the default {@link Options}. */
    public static EmbeddedKafka start(Path dataDir) {
        return start(dataDir, Options.defaults());
    }

    /**
     * Starts a broker on {@code dataDir} and returns once it answers {@code describeCluster}.
     *
     * @throws IllegalStateException when it exits or does not answer within {@link Options#startupTimeout()}; the
     *                               message carries the end of its log
     */
    public static EmbeddedKafka start(Path dataDir, Options options) {
        EmbeddedKafka kafka = new EmbeddedKafka(dataDir, options);
        Runtime.getRuntime().addShutdownHook(kafka.shutdownHook);
        try {
            kafka.launch();
        } catch (RuntimeException | Error e) {
            kafka.close();
            throw e;
        }
        return kafka;
    }

    /** The Kafka version of the broker (and of the clients on this classpath), for example {@code 4.4.0}. */
    public static String kafkaVersion() {
        // What kafka-clients' (internal) AppInfoParser reads.
        try (var in = Admin.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** {@code 127.0.0.1:<port>}: the same across {@link #restart()}s. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The port of the PLAINTEXT listener (clients). */
    public int port() {
        return port;
    }

    /** The port of the CONTROLLER listener (KRaft). */
    public int controllerPort() {
        return controllerPort;
    }

    /** The cluster id, as the running broker reports it (a directory formatted earlier keeps its own). */
    public String clusterId() {
        return clusterId;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The broker's output, appended to across restarts. */
    public Path logFile() {
        return dataDir.resolve("broker.log");
    }

    /** How long the last start took, from launching the process to the first answer to {@code describeCluster}. */
    public Duration lastStartupTime() {
        return lastStartup;
    }

    /** Whether the broker process is alive (it may not be serving yet, or any more, when it is). */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** The broker process's id, for tests that want to signal it themselves; -1 when it is not running. */
    public synchronized long pid() {
        return isRunning() ? process.pid() : -1;
    }

    /**
     * Blocks until the broker process exits, whoever stopped it (or it crashed), and returns its exit status; returns at
     * once, with -1, when it is not running. For a launcher that runs in the foreground.
     */
    public int waitForExit() throws InterruptedException {
        Process p;
        synchronized (this) {
            p = process;
        }
        return p == null ? -1 : p.waitFor();
    }

    /** The end of the broker's log for its current (or last) start: the first error, if any, and the last lines. */
    public String logExcerpt() {
        return logTail();
    }

    /** Creates the topics (those that exist already are kept) and waits until every partition is ready for writes. */
    public void createTopics(NewTopic... topics) {
        createTopics(Arrays.asList(topics));
    }

    /** See {@link KafkaTopics#create(Admin, Collection, Duration)}. */
    public void createTopics(Collection<NewTopic> topics) {
        requireRunning();
        KafkaTopics.create(bootstrapServers(), topics, options.operationTimeout);
    }

    /** Creates a topic with {@code partitions} partitions and replication factor 1, and waits until it is ready. */
    public void createTopic(String name, int partitions) {
        createTopics(new NewTopic(name, partitions, (short) 1));
    }

    /**
     * Client properties that reach this broker: {@code bootstrap.servers}, and short reconnect back-offs so that
     * clients find it again quickly after a restart. Add the rest (serializers, group id, ...).
     */
    public Map<String, Object> clientProperties() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 50);
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        return p;
    }

    /**
     * Stops the broker cleanly: SIGTERM, then Kafka's controlled shutdown (partitions flushed, clean-shutdown marker
     * written). Falls back to SIGKILL when it has not exited within {@link Options#stopTimeout()}. Does nothing when
     * it is not running.
     */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        Process p = process;
        if (p.isAlive()) {
            long t0 = System.nanoTime();
            p.destroy();
            if (!waitFor(p, options.stopTimeout)) {
                log.warn("Kafka broker did not stop within {}; killing it (log: {})", options.stopTimeout, logFile());
                p.destroyForcibly();
                waitFor(p, Duration.ofSeconds(30));
            } else {
                log.info("Kafka broker on {} stopped in {} ms", bootstrapServers(), elapsedMillis(t0));
            }
        }
        released();
    }

    /** Kills the broker at once (SIGKILL), as a crash would: no controlled shutdown, no flush. */
    public synchronized void kill() {
        if (process == null) {
            return;
        }
        Process p = process;
        p.destroyForcibly();
        waitFor(p, Duration.ofSeconds(30));
        log.info("Kafka broker on {} killed", bootstrapServers());
        released();
    }

    /**
     * Starts the broker again on the same data directory and the same ports, stopping it cleanly first if it runs;
     * returns once it answers. Clients that were connected find it again on their own.
     */
    public synchronized void restart() {
        stop();
        launch();
    }

    /** Stops the broker cleanly ({@link #stop()}); the data directory is kept. */
    @Override
    public synchronized void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down already: the hook is running or has run.
        }
    }

    @Override
    public String toString() {
        return "EmbeddedKafka[" + bootstrapServers() + ", " + dataDir + (isRunning() ? ", running]" : ", stopped]");
    }

    // ------------------------------------------------------------------------------------------------------------

    private synchronized void launch() {
        if (isRunning()) {
            throw new IllegalStateException("the broker is running already: " + this);
        }
        requireFree(port, "client");
        requireFree(controllerPort, "controller");
        starts++;
        long t0 = System.nanoTime();
        Path properties = dataDir.resolve("server.properties");
        try {
            Files.createDirectories(dataDir);
            writeProperties(properties);
            List<String> command = new ArrayList<>();
            command.add(Jvm.java());
            command.addAll(options.jvmOptions);
            command.add("-Dlogback.configurationFile=" + LOGBACK_CONFIG);
            command.add("-D" + ParentWatch.PROPERTY + "=true");
            command.add(Jvm.classpathArgument(dataDir.resolve("broker.jvm-args"), options.classpath));
            command.add(BrokerProcess.class.getName());
            command.add(properties.toString());
            command.add(formattedClusterId().orElse(generatedClusterId));

            Files.writeString(logFile(), String.format("%n%s %d at %s, %s =====%n", START_MARKER, starts,
                    Instant.now(), bootstrapServers()), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            process = new ProcessBuilder(command)
                    .directory(dataDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                    .start();
            // Kept open, never written: the broker exits when it reads end of file, that is when this JVM has gone.
            parentPipe = process.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the Kafka broker in " + dataDir + ": " + e.getMessage(), e);
        }
        awaitReady(t0);
        lastStartup = Duration.ofNanos(System.nanoTime() - t0);
        log.info("Kafka broker {} ready on {} in {} ms (data: {}, log: {})", kafkaVersion(), bootstrapServers(),
                lastStartup.toMillis(), dataDir, logFile());
    }

    private void awaitReady(long t0) {
        long deadline = t0 + options.startupTimeout.toNanos();
        // The broker opens its client port only once it is unfenced and serving. Until then, plain TCP probes (an admin
        // client would log a warning per refused connection), then describeCluster.
        while (!accepts(port)) {
            checkStarting(deadline, null);
            sleepMillis(50);
        }
        Properties admin = KafkaTopics.adminProperties(bootstrapServers());
        admin.put(AdminClientConfig.CLIENT_ID_CONFIG, "shears-broker-ready");
        Throwable last = null;
        try (Admin client = Admin.create(admin)) {
            while (true) {
                try {
                    DescribeClusterResult cluster = client.describeCluster(
                            new DescribeClusterOptions().timeoutMs(1000));
                    if (!cluster.nodes().get(2, TimeUnit.SECONDS).isEmpty()) {
                        clusterId = cluster.clusterId().get(2, TimeUnit.SECONDS);
                        return;
                    }
                } catch (ExecutionException e) {
                    last = e.getCause();
                } catch (TimeoutException e) {
                    last = e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    kill();
                    throw new IllegalStateException("interrupted while waiting for the Kafka broker to start", e);
                }
                checkStarting(deadline, last);
                sleepMillis(50);
            }
        }
    }

    /** Fails when the broker has exited, or when the start-up time is over (then it is killed). */
    private void checkStarting(long deadline, Throwable last) {
        if (!process.isAlive()) {
            int status = process.exitValue();
            released();
            throw new IllegalStateException("the Kafka broker exited during start-up with status " + status
                    + " (" + bootstrapServers() + ", data " + dataDir + "). End of " + logFile() + ":\n" + logTail());
        }
        if (System.nanoTime() >= deadline) {
            kill();
            throw new IllegalStateException("the Kafka broker did not answer within " + options.startupTimeout
                    + " (" + bootstrapServers() + ", data " + dataDir + (last != null ? ", last error: " + last : "")
                    + "); killed it. End of " + logFile() + ":\n" + logTail());
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOCALHOST, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void writeProperties(Path file) throws IOException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dataDir.resolve("kafka-logs").toString());
        // One node: the internal topics cannot have 3 replicas. Without these, consumer groups and transactions wait
        // for replicas that never come, silently.
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("min.insync.replicas", "1");
        p.put("default.replication.factor", "1");
        // A local broker: few partitions for the internal topics (50 each by default), small thread pools, no wait
        // for more members before the first rebalance of a consumer group.
        p.put("offsets.topic.num.partitions", "3");
        p.put("transaction.state.log.num.partitions", "3");
        p.put("share.coordinator.state.topic.num.partitions", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // After a kill, the controller refuses the restarted broker's registration until the old one's session has
        // expired (DUPLICATE_BROKER_REGISTRATION): 9 s by default, so a short session for this one local node.
        p.put("broker.session.timeout.ms", "3000");
        p.put("broker.heartbeat.interval.ms", "500");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("background.threads", "4");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.put("log.cleaner.threads", "1");
        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(16 * 1024 * 1024));
        // Topics are created on purpose (KafkaTopics waits until they can take writes, KAFKA-15591).
        p.put("auto.create.topics.enable", "false");
        p.putAll(options.brokerProperties);
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("# Written by dev.shears.broker.EmbeddedKafka at each start: edits are overwritten.\n");
            for (Map.Entry<String, String> e : p.entrySet()) {
                w.write(e.getKey() + "=" + e.getValue().replace("\\", "\\\\") + "\n");
            }
        }
    }

    /** The cluster id of a data directory formatted earlier (the format must repeat it), if it is. */
    private Optional<String> formattedClusterId() throws IOException {
        Path meta = dataDir.resolve("kafka-logs").resolve("meta.properties");
        if (!Files.isRegularFile(meta)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (var in = Files.newInputStream(meta)) {
            p.load(in);
        }
        return Optional.ofNullable(p.getProperty("cluster.id"));
    }

    /**
     * The log of the current start: all of it when short, otherwise its first error (with what follows, the stack
     * trace) and its end. A failed start's cause comes first; the lines of the shutdown that follow can be many.
     */
    private String logTail() {
        List<String> lines;
        try {
            lines = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
        } catch (IOException | UncheckedIOException e) {
            return "(could not read " + logFile() + ": " + e + ")";
        }
        int from = 0;
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith(START_MARKER)) {
                from = i;
                break;
            }
        }
        List<String> section = lines.subList(from, lines.size());
        if (section.size() <= 2 * LOG_TAIL_LINES) {
            return String.join("\n", section);
        }
        List<String> shown = new ArrayList<>();
        for (int i = 0; i < section.size(); i++) {
            String line = section.get(i);
            if (line.contains(" ERROR ") || line.contains(" FATAL ") || line.startsWith("Error:")) {
                shown.addAll(section.subList(i, Math.min(section.size(), i + LOG_TAIL_LINES)));
                shown.add("...");
                break;
            }
        }
        shown.addAll(section.subList(section.size() - LOG_TAIL_LINES, section.size()));
        return String.join("\n", shown);
    }

    private void released() {
        if (parentPipe != null) {
            try {
                parentPipe.close();
            } catch (IOException e) {
                // The process is gone.
            }
        }
        parentPipe = null;
        process = null;
    }

    private void requireRunning() {
        if (!isRunning()) {
            throw new IllegalStateException("the broker is not running: " + this);
        }
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (RuntimeException e) {
            // Best effort during JVM shutdown; the broker also exits when this JVM's pipe closes.
        }
    }

    private static boolean waitFor(Process p, Duration timeout) {
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return false;
        }
    }

    /** Fails at once, rather than after the broker's start-up, when another process listens on {@code port}. */
    private static void requireFree(int port, String listener) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true); // as the broker: a port left in TIME_WAIT by its previous run is free
            socket.bind(new InetSocketAddress(LOCALHOST, port));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the Kafka broker: its " + listener + " port 127.0.0.1:" + port
                    + " is in use (" + e.getMessage() + "); another broker running?", e);
        }
    }

    /** A port free on 127.0.0.1 now, other than {@code not}. */
    private static int freePort(int not) {
        for (int attempt = 0; attempt < 20; attempt++) {
            try (ServerSocket socket = new ServerSocket(0, 1, LOCALHOST)) {
                socket.setReuseAddress(true);
                if (socket.getLocalPort() != not) {
                    return socket.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("no free port on 127.0.0.1", e);
            }
        }
        throw new IllegalStateException("no free port on 127.0.0.1");
    }

    private static InetAddress loopbackIpv4() {
        try {
            return InetAddress.getByAddress("localhost", new byte[]{127, 0, 0, 1});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static long elapsedMillis(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * How the broker is started. Immutable; {@code with...} return a copy.
     */
    public static final class Options {

        private final int port;
        private final int controllerPort;
        private final Duration startupTimeout;
        private final Duration stopTimeout;
        private final Duration operationTimeout;
        private final List<String> jvmOptions;
        private final Map<String, String> brokerProperties;
        private final String classpath;

        private Options(int port, int controllerPort, Duration startupTimeout, Duration stopTimeout,
                Duration operationTimeout, List<String> jvmOptions, Map<String, String> brokerProperties,
                String classpath) {
            this.port = port;
            this.controllerPort = controllerPort;
            this.startupTimeout = startupTimeout;
            this.stopTimeout = stopTimeout;
            this.operationTimeout = operationTimeout;
            this.jvmOptions = List.copyOf(jvmOptions);
            this.brokerProperties = Map.copyOf(brokerProperties);
            this.classpath = classpath;
        }

        /**
         * Free ports chosen at start, 60 s to start, 30 s to stop, 30 s for topic creation; a small broker JVM (512 MiB
         * heap, serial GC: fast to start, and frugal next to the workers on a small machine).
         */
        public static Options defaults() {
            return new Options(0, 0, Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(30),
                    List.of("-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError",
                            "-Djava.awt.headless=true"),
                    Map.of(), null);
        }

        /** The clients' port; 0 (the default) picks a free one. It stays the same across restarts. */
        public Options withPort(int port) {
            return new Options(checkPort(port), controllerPort, startupTimeout, stopTimeout, operationTimeout,
                    jvmOptions, brokerProperties, classpath);
        }

        /** The KRaft controller's port; 0 (the default) picks a free one. */
        public Options withControllerPort(int controllerPort) {
            return new Options(port, checkPort(controllerPort), startupTimeout, stopTimeout, operationTimeout,
                    jvmOptions, brokerProperties, classpath);
        }

        public Options withStartupTimeout(Duration startupTimeout) {
            return new Options(port, controllerPort, Objects.requireNonNull(startupTimeout), stopTimeout,
                    operationTimeout, jvmOptions, brokerProperties, classpath);
        }

        public Options withStopTimeout(Duration stopTimeout) {
            return new Options(port, controllerPort, startupTimeout, Objects.requireNonNull(stopTimeout),
                    operationTimeout, jvmOptions, brokerProperties, classpath);
        }

        /** How long {@link EmbeddedKafka#createTopics} may take. */
        public Options withOperationTimeout(Duration operationTimeout) {
            return new Options(port, controllerPort, startupTimeout, stopTimeout,
                    Objects.requireNonNull(operationTimeout), jvmOptions, brokerProperties, classpath);
        }

        /** The broker JVM's options, replacing the defaults (heap, GC, ...). */
        public Options withJvmOptions(List<String> jvmOptions) {
            return new Options(port, controllerPort, startupTimeout, stopTimeout, operationTimeout, jvmOptions,
                    brokerProperties, classpath);
        }

        /** A broker setting ({@code server.properties}), over the defaults. */
        public Options withBrokerProperty(String name, String value) {
            Map<String, String> p = new LinkedHashMap<>(brokerProperties);
            p.put(Objects.requireNonNull(name), Objects.requireNonNull(value));
            return new Options(port, controllerPort, startupTimeout, stopTimeout, operationTimeout, jvmOptions, p,
                    classpath);
        }

        /**
         * The broker JVM's classpath: Kafka's broker jars, logback and this module. By default this JVM's own
         * ({@code java.class.path}), which has them whenever this module is on it.
         */
        public Options withClasspath(String classpath) {
            return new Options(port, controllerPort, startupTimeout, stopTimeout, operationTimeout, jvmOptions,
                    brokerProperties, Objects.requireNonNull(classpath));
        }

        public int port() {
            return port;
        }

        public int controllerPort() {
            return controllerPort;
        }

        public Duration startupTimeout() {
            return startupTimeout;
        }

        public Duration stopTimeout() {
            return stopTimeout;
        }

        public Duration operationTimeout() {
            return operationTimeout;
        }

        public List<String> jvmOptions() {
            return jvmOptions;
        }

        public Map<String, String> brokerProperties() {
            return brokerProperties;
        }

        private static int checkPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0 (any free port) or 1-65535, not " + port);
            }
            return port;
        }
    }
}
