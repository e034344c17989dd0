package dev.shears.scheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.scheduler.ApiToken;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A small client of the scheduler's HTTP API, for the commands. */
final class SchedulerClient {

    /** A request that got no usable answer; the message names the URL and the fix. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    /** An answer: the status and the JSON body (an empty object when the body is not JSON). */
    record Response(int status, JsonNode body) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final ApiToken token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A client of the scheduler at {@code base} that sends {@code token} (null: none) with every request. */
    SchedulerClient(String base, ApiToken token) throws Failure {
        this.token = token;
        String b = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        try {
            this.base = URI.create(b);
            if (this.base.getScheme() == null || this.base.getHost() == null) {
                throw new IllegalArgumentException("no scheme or host");
            }
        } catch (IllegalArgumentException e) {
            throw new Failure("scheduler URL " + base + " is not a URL (fix: e.g. --scheduler http://127.0.0.1:8080)");
        }
    }

    URI base() {
        return base;
    }

    Response get(String path) throws Failure {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET());
    }

    Response post(String path, String body, String contentType) throws Failure {
        return send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
    }

    private Response send(HttpRequest.Builder request) throws Failure {
        try {
            if (token != null) {
                request.header("Authorization", token.header());
            }
            HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(90)).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            JsonNode body;
            try {
                body = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
            } catch (IOException e) {
                body = JSON.createObjectNode().put("error", r.body());
            }
            return new Response(r.statusCode(), body);
        } catch (ConnectException e) {
            throw new Failure("cannot reach the scheduler at " + base + ": connection refused (fix: start it with"
                    + " ./shears scheduler --bootstrap 127.0.0.1:9092, or set --scheduler or SHEARS_SCHEDULER to its URL)");
        } catch (HttpTimeoutException e) {
            throw new Failure("the scheduler at " + base + " did not answer in time (fix: check that it and Kafka"
                    + " run: curl " + base + "/health)");
        } catch (IOException e) {
            throw new Failure("request to the scheduler at " + base + " failed: " + e
                    + " (fix: check --scheduler / SHEARS_SCHEDULER)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted");
        }
    }
}
