package dev.shears.trainer.cli;

import dev.shears.trainer.metrics.MetricsServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import picocli.CommandLine.Option;

/**
 * {@code --metrics-port PORT} and {@code --metrics-host HOST}: where a trainer process serves its Prometheus metrics.
 * A picocli mixin; each command chooses the default port.
 */
final class MetricsOptions {

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "serve Prometheus metrics on this port (0: any free port, -1: off; default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1", paramLabel = "HOST",
            description = "address to bind the metrics endpoint (default ${DEFAULT-VALUE}; 0.0.0.0 exposes it)")
    String host;

    /** @param defaultPort the port when {@code --metrics-port} is not given: 0 any free one, -1 none */
    MetricsOptions(int defaultPort) {
        this.port = defaultPort;
    }

    /** Starts the endpoint; null when {@code --metrics-port} is -1 (off). */
    MetricsServer start() throws IOException {
        return port < 0 ? null : MetricsServer.start(host, port);
    }

    /** Where the meters go: the endpoint's registry, or one nobody reads when metrics are off. */
    static MeterRegistry registry(MetricsServer server) {
        return server == null ? new SimpleMeterRegistry() : server.registry();
    }
}
