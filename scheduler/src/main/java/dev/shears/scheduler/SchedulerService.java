package dev.shears.scheduler;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler, running: one state machine per job driven by the reports topic, commands and
 * state written in Kafka transactions, an HTTP API and a metrics endpoint.
 *
 * <p>{@link #start} returns once the topics exist, every job is rebuilt from the state topic, the
 * earlier scheduler with the same transactional id is fenced, and the HTTP API listens. {@link
 * #close} finishes the transaction in progress, then closes the clients and the API. Thread-safe.
 *
 * <p>When its Kafka producer cannot go on (fenced by another scheduler with the same transactional id, or a failed
 * transaction that cannot be aborted), the service stops its engine, answers {@code /health} with 503 and calls the
 * {@code onFatal} it was started with; the command line exits then, so that the process is restarted.
 */
public final class SchedulerService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SchedulerService.class);
    /**
     * How long each step of start-up may wait for Kafka; the rebuild of the jobs from the state topic may take longer
     * as a whole, as long as records keep coming.
     */
    public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

    private final Engine engine;
    private final Api api;
    private final Thread thread;
    private final PrometheusMeterRegistry registry;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SchedulerService(Engine engine, Api api, Thread thread, PrometheusMeterRegistry registry) {
        this.engine = engine;
        this.api = api;
        this.thread = thread;
        this.registry = registry;
    }

    /**
     * Starts a scheduler that, when its producer cannot go on, stops and reports itself down.
     *
     * @throws IllegalStateException when Kafka is not reachable or the topics are not ready within
     *     {@link #STARTUP_TIMEOUT}
     * @throws UncheckedIOException when the HTTP port cannot be bound
     */
    public static SchedulerService start(SchedulerConfig config) {
        return start(config, cause -> {});
    }

    /**
     * Starts a scheduler.
     *
     * @param onFatal called once, on the engine's thread after it closed its Kafka clients, with the error that
     *     stopped it; the command line exits the process there
     * @throws IllegalStateException when Kafka is not reachable or the topics are not ready within
     *     {@link #STARTUP_TIMEOUT}
     * @throws UncheckedIOException when the HTTP port cannot be bound
     */
    public static SchedulerService start(SchedulerConfig config, Consumer<Throwable> onFatal) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ConcurrentHashMap<String, JobSnapshot> views = new ConcurrentHashMap<>();
        ConcurrentHashMap<String, Instant> heard = new ConcurrentHashMap<>();
        SchedulerMetrics metrics = new SchedulerMetrics(registry, views, heard);
        Engine engine = new Engine(config, Clock.systemUTC(), metrics, views, heard, onFatal);
        metrics.running(() -> engine.health().up());
        engine.open(STARTUP_TIMEOUT);
        SchedulerConfig.Http http = config.http();
        Api api;
        try {
            api = new Api(engine, registry, http.host(), http.port(), http.token(), http.timeout());
        } catch (IOException e) {
            engine.stop();
            engine.run(); // stopped: only closes the Kafka clients
            throw new UncheckedIOException("cannot listen on " + http.host() + ":" + http.port() + ": " + e
                    + " (fix: choose another --http-port, or 0 for a free one)", e);
        }
        if (http.token() == null && !http.loopbackOnly()) {
            log.warn("the HTTP API listens on {} without a token: anyone who reaches it can submit and cancel jobs"
                    + " (fix: --token-file FILE or ${}, or --http-host 127.0.0.1)", http.host(), ApiToken.ENV);
        }
        Thread thread = new Thread(engine, "shears-scheduler-engine");
        thread.start();
        api.start();
        return new SchedulerService(engine, api, thread, registry);
    }

    /** The HTTP API's address, e.g. {@code http://127.0.0.1:8080}. */
    public URI uri() {
        InetSocketAddress a = api.address();
        return URI.create("http://" + a.getHostString() + ":" + a.getPort());
    }

    /** The HTTP port actually bound. */
    public int httpPort() {
        return api.address().getPort();
    }

    /** The registry {@code /metrics} scrapes. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Whether the engine still runs (false after {@link #close} or a fatal Kafka error, when /health says 503). */
    public boolean running() {
        return thread.isAlive() && engine.running();
    }

    /** Whether {@link #close} was called (as opposed to the engine stopping on a fatal error). */
    public boolean closed() {
        return closed.get();
    }

    /** Blocks until the engine has stopped. */
    public void awaitStopped() throws InterruptedException {
        thread.join();
    }

    /** Stops taking work, lets the transaction in progress finish, closes Kafka clients and the API. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        engine.stop();
        try {
            thread.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        api.stop();
        registry.close();
    }
}
