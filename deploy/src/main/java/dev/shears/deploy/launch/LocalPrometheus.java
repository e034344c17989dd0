package dev.shears.deploy.launch;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server (Debian's {@code prometheus} package) scraping a local pipeline: the scheduler and the
 * workers, with Shears' alert rules loaded. It writes its own configuration (the same scrape settings as
 * {@code dashboards/prometheus/prometheus.yml}, with the local targets), keeps its data in one directory, and stops
 * with {@link #close()} or when this JVM exits, however it exits.
 */
public final class LocalPrometheus implements AutoCloseable {
    /** Where Debian's package puts the server. */
    public static final List<Path> BINARIES = List.of(Path.of("/usr/bin/prometheus"),
            Path.of("/usr/local/bin/prometheus"));

    private final Process process;
    private final OutputStream parentPipe;
    private final URI url;
    private final Path dir;

    /** A scrape job: its name and its {@code host:port} targets (metrics at {@code /metrics}). */
    public record ScrapeJob(String name, List<String> targets) {
        public ScrapeJob {
            targets = List.copyOf(targets);
        }
    }

    private LocalPrometheus(Process process, URI url, Path dir) {
        this.process = process;
        this.parentPipe = process.getOutputStream();
        this.url = url;
        this.dir = dir;
    }

    /** The server binary, when installed. */
    public static Optional<Path> binary() {
        return BINARIES.stream().filter(Files::isExecutable).findFirst();
    }

    /**
     * Starts Prometheus on 127.0.0.1 and waits until it is ready.
     *
     * @param dir its configuration, data and log
     * @param jobs what it scrapes
     * @param ruleFiles alert and recording rule files to load
     * @param interval scrape and rule evaluation interval
     * @throws IllegalStateException when Prometheus is not installed (with the command that installs it), exits, or
     *     is not ready within a minute
     */
    public static LocalPrometheus start(Path dir, List<ScrapeJob> jobs, List<Path> ruleFiles, Duration interval) {
        Path binary = binary().orElseThrow(() -> new IllegalStateException("Prometheus is not installed (looked for "
                + BINARIES + ") (fix: apt-get install -y prometheus, or ./shears setup)"));
        dir = dir.toAbsolutePath();
        try {
            Files.createDirectories(dir.resolve("data"));
            Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, config(jobs, ruleFiles, interval), StandardCharsets.UTF_8);
            int port = freePort();
            Path log = dir.resolve("prometheus.log");
            List<String> command = new ArrayList<>(List.of("bash", "-c",
                    // Prometheus in the background, and a reader of this JVM's pipe that kills it at end of file (a
                    // background job's standard input is /dev/null unless given, hence fd 3).
                    "exec 3<&0; \"$0\" \"$@\" & p=$!; (cat <&3 >/dev/null; kill $p 2>/dev/null) & wait $p",
                    binary.toString(), "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + port, "--web.enable-lifecycle",
                    "--storage.tsdb.retention.time=1d"));
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            LocalPrometheus prometheus = new LocalPrometheus(process, URI.create("http://127.0.0.1:" + port), dir);
            prometheus.awaitReady(Duration.ofSeconds(60), log);
            return prometheus;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start Prometheus in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The configuration for {@code jobs}: {@code honor_labels}, because Shears' own {@code job} label is the job id. */
    static String config(List<ScrapeJob> jobs, List<Path> ruleFiles, Duration interval) {
        StringBuilder s = new StringBuilder();
        s.append("global:\n  scrape_interval: ").append(interval.toMillis()).append("ms\n")
                .append("  evaluation_interval: ").append(interval.toMillis()).append("ms\n");
        s.append("rule_files:\n");
        ruleFiles.forEach(f -> s.append("  - \"").append(f.toAbsolutePath()).append("\"\n"));
        if (ruleFiles.isEmpty()) {
            s.setLength(s.length() - "rule_files:\n".length());
        }
        s.append("scrape_configs:\n");
        for (ScrapeJob job : jobs) {
            s.append("  - job_name: ").append(job.name()).append("\n    honor_labels: true\n")
                    .append("    static_configs:\n      - targets: [");
            s.append(String.join(", ", job.targets().stream().map(t -> "\"" + t + "\"").toList())).append("]\n");
        }
        return s.toString();
    }

    public URI url() {
        return url;
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            parentPipe.close();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException e) {
            // Gone already.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private void awaitReady(Duration timeout, Path log) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Prometheus exited with status " + process.exitValue()
                        + "; its log " + log + ":\n" + tail(log));
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(url.resolve("/-/ready")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        close();
        throw new IllegalStateException("Prometheus was not ready within " + timeout.toSeconds() + " s; its log " + log
                + ":\n" + tail(log));
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
