package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The HTTP API against slow clients, without a broker: an engine that was never opened answers {@code /health} with
 * 503 "starting", which is all these tests need to see answered.
 */
@DisplayName("HTTP API under slow clients")
class ApiTimeoutTest {
    final List<AutoCloseable> toClose = new ArrayList<>();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    Api api(Duration timeout) throws IOException {
        SchedulerConfig config = SchedulerConfig.of("127.0.0.1:9");
        ConcurrentHashMap<String, JobSnapshot> views = new ConcurrentHashMap<>();
        ConcurrentHashMap<String, java.time.Instant> heard = new ConcurrentHashMap<>();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Engine engine = new Engine(config, Clock.systemUTC(), new SchedulerMetrics(registry, views, heard), views,
                heard,
                cause -> {});
        Api api = new Api(engine, registry, "127.0.0.1", 0, null, timeout);
        api.start();
        toClose.add(api::stop);
        return api;
    }

    /** A client that sends the start of a request, then nothing. */
    Socket slowClient(Api api, String start) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", api.address().getPort()), 2000);
        toClose.add(s);
        OutputStream out = s.getOutputStream();
        out.write(start.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    HttpResponse<String> health(Api api) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.address().getPort() + "/health"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @DisplayName("eight clients stuck in their headers or bodies do not hold /health")
    void slowClientsDoNotBlockHealth() throws Exception {
        Api api = api(Duration.ofSeconds(30));
        for (int i = 0; i < 4; i++) {
            slowClient(api, "GET /jobs HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            slowClient(api, "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\njob: slow");
        }
        Thread.sleep(300); // every slow exchange has reached a thread
        long started = System.nanoTime();
        HttpResponse<String> r = health(api);
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("starting");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    @DisplayName("a client slower than the timeout is cut off, and more slow clients than threads only delay /health"
            + " until theirs run out")
    void aClientOverTheTimeoutIsCutOff() throws Exception {
        Api api = api(Duration.ofSeconds(1));
        Socket slow = slowClient(api, "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\njob: slow");
        slow.setSoTimeout(10_000);
        long started = System.nanoTime();
        InputStream in = slow.getInputStream();
        int read;
        try {
            read = in.read();
        } catch (IOException reset) {
            read = -1;
        }
        assertThat(read).as("the connection is closed, no answer").isEqualTo(-1);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(500),
                Duration.ofSeconds(4));

        for (int i = 0; i < 2 * Api.THREADS; i++) {
            slowClient(api, "GET /jobs HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        }
        Thread.sleep(300);
        assertThat(health(api).statusCode()).isEqualTo(503);
    }
}
