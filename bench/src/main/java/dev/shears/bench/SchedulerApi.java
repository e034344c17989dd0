package dev.shears.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The scheduler's job API as the benchmarks drive it: {@code POST /jobs}, {@code GET /jobs/{id}} and
 * {@code GET /jobs}. One HTTP client and JSON mapper serve every scheduler of the JVM; the instances, one per
 * scheduler, are safe to use from many threads.
 */
final class SchedulerApi {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;

    /** The API of the scheduler at {@code base} ({@code http://host:port}). */
    SchedulerApi(URI base) {
        this.base = base;
    }

    /** Posts {@code recipe} (YAML) to {@code POST /jobs}, allowed 2 minutes; returns the HTTP status (201: accepted). */
    int post(String recipe) throws IOException, InterruptedException {
        return HTTP.send(postJob(recipe), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /**
     * Posts {@code recipe} as {@link #post} does.
     *
     * @throws IllegalStateException when the scheduler does not accept it (not 201), with its status and answer
     */
    void submit(String recipe) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(postJob(recipe), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IllegalStateException("submission refused: HTTP " + r.statusCode() + " " + r.body());
        }
    }

    /** The job's state as {@code GET /jobs/{job}} gives it ({@code submitted} ... {@code published}); "?" when none. */
    String state(String job) throws IOException, InterruptedException {
        return get("/jobs/" + job).path("state").asText("?");
    }

    /**
     * Waits for the job to end: polls its state every 500 ms until it is {@code published}, {@code failed} or
     * {@code cancelled}, and returns that state.
     *
     * @param startNanos when the wait for it began, a {@link System#nanoTime()}
     * @param logs where the pipeline's logs are, named in the timeout's message
     * @throws IllegalStateException when {@code deadline} passes first, with the state it was in
     */
    String awaitEnd(String job, long startNanos, Deadline deadline, Path logs)
            throws IOException, InterruptedException {
        while (true) {
            String state = state(job);
            if (state.equals("published") || state.equals("failed") || state.equals("cancelled")) {
                return state;
            }
            if (deadline.passed(startNanos)) {
                throw new IllegalStateException("job " + job + " still " + state + " after " + deadline.minutes
                        + " minutes; logs in " + logs);
            }
            Thread.sleep(500);
        }
    }

    /** How many of the jobs {@code GET /jobs} lists are published. */
    int publishedJobs() throws IOException, InterruptedException {
        int published = 0;
        for (JsonNode job : get("/jobs").path("jobs")) {
            published += job.path("state").asText().equals("published") ? 1 : 0;
        }
        return published;
    }

    private HttpRequest postJob(String recipe) {
        return HttpRequest.newBuilder(base.resolve("/jobs")).timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofString(recipe)).build();
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        return JSON.readTree(HTTP.send(HttpRequest.newBuilder(base.resolve(path)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }
}
