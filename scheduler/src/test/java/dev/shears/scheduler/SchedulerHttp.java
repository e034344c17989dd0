package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A test's client of one scheduler's HTTP API: requests by method and path, the job as JSON, waits for a state. */
final class SchedulerHttp {
    static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;

    SchedulerHttp(URI base) {
        this.base = base;
    }

    /** {@code method path} with {@code body} (none when null), answered within 90 s. */
    HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body);
        return http.send(HttpRequest.newBuilder(base.resolve(path)).method(method, publisher)
                .timeout(Duration.ofSeconds(90)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> submit(String recipe) throws IOException, InterruptedException {
        return send("POST", "/jobs", recipe);
    }

    /** The job as {@code GET /jobs/{id}} shows it; fails the test unless it is there. */
    JsonNode job(String id) throws IOException, InterruptedException {
        HttpResponse<String> r = send("GET", "/jobs/" + id, null);
        assertThat(r.statusCode()).as("GET /jobs/%s: %s", id, r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    void awaitState(String id, String state, Duration within) {
        await().atMost(within).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(job(id).path("state").asText()).isEqualTo(state));
    }

    String metrics() throws IOException, InterruptedException {
        return send("GET", "/metrics", null).body();
    }
}
