package dev.shears.deploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.Event;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.deploy.launch.ChildProcess;
import dev.shears.deploy.launch.LocalPipeline;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One worker's memory, in its own JVM as it runs for real: jobs share its data sets (one copy per worker) and its job
 * sessions stay within a budget, so that eight jobs interleaved on a 2 GB heap all publish; and a worker that runs out
 * of memory exits non-zero without committing the command, rather than retrying a half-trained session.
 */
class WorkerMemoryTest {
    static final Duration TIMEOUT = Duration.ofMinutes(8);
    static final int JOBS = 8;
    static final long HEAP_MB = 2048;
    /** A G1 log line's heap before and after a collection, and its capacity: {@code 120M->30M(2048M)}. */
    static final Pattern GC = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");
    static final Pattern GAUGE = Pattern.compile("^(shears_worker_\\w+)\\{[^}]*} ([0-9.eE+-]+)$", Pattern.MULTILINE);

    @TempDir
    Path dir;
    LocalPipeline pipeline;
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    @AfterEach
    void stop() {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    @Test
    void eightJobsInterleavedOnOneWorkerWithATwoGigabyteHeapAllPublishWithinItsBudget() throws Exception {
        pipeline = LocalPipeline.start(dir, TestRecipes.pipeline().withWorkers(0));
        Path gcLog = pipeline.logDir().resolve("worker-1-gc.log");
        ChildProcess worker = pipeline.startWorker("worker-1", List.of("-Xmx" + HEAP_MB + "m",
                "-Xlog:gc:file=" + gcLog));
        for (int i = 1; i <= JOBS; i++) {
            submit(TestRecipes.lenet5("mem-" + i, 0.5, 2, 20));
        }

        double maxSessions = 0;
        double maxSessionBytes = 0;
        double dataBytes = 0;
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (published() < JOBS) {
            assertThat(System.nanoTime()).as("%d jobs published within %s; logs in %s", JOBS, TIMEOUT,
                    pipeline.logDir()).isLessThan(deadline);
            assertThat(worker.isAlive()).as("the worker is alive: %s", worker.logTail()).isTrue();
            Map<String, Double> gauges = gauges(pipeline.workerMetrics(worker));
            maxSessions = Math.max(maxSessions, gauges.getOrDefault("shears_worker_sessions", 0.0));
            maxSessionBytes = Math.max(maxSessionBytes, gauges.getOrDefault("shears_worker_session_bytes", 0.0));
            dataBytes = Math.max(dataBytes, gauges.getOrDefault("shears_worker_data_bytes", 0.0));
            Thread.sleep(500);
        }

        long peakUsedMb = 0;
        long peakLiveMb = 0;
        long collections = 0;
        for (String line : Files.readAllLines(gcLog)) {
            Matcher m = GC.matcher(line);
            if (m.find()) {
                collections++;
                peakUsedMb = Math.max(peakUsedMb, Long.parseLong(m.group(1)));
                peakLiveMb = Math.max(peakLiveMb, Long.parseLong(m.group(2)));
            }
        }
        long budgetMb = HEAP_MB * 2 / 3; // the data sets' and the sessions' default budgets, a third of the heap each
        System.out.printf("worker heap over %d jobs interleaved: at most %d MB used, %d MB live after a collection"
                + " (%d collections); budget for data sets and sessions %d MB of a %d MB heap; at most %.0f"
                + " sessions open, estimated %.1f MB; data sets %.1f MB, one copy%n", JOBS, peakUsedMb,
                peakLiveMb, collections, budgetMb, HEAP_MB, maxSessions, maxSessionBytes / 1e6, dataBytes / 1e6);
        assertThat(collections).as("the GC log %s has collections", gcLog).isPositive();
        assertThat(peakLiveMb).as("live heap after collections, MB").isLessThan(budgetMb);
        assertThat(maxSessions).as("jobs interleaved: sessions open at once").isGreaterThan(1);
        assertThat(maxSessionBytes + dataBytes).as("counted bytes").isLessThan(budgetMb * 1e6);
        List<Event> reports = History.readAll(pipeline.bootstrapServers(), Topics.defaults().reports());
        for (int i = 1; i <= JOBS; i++) {
            assertThat(History.byJob(reports, "mem-" + i).stream().filter(e -> e.payload() instanceof StepCompleted s
                    && !s.redelivered())).as("mem-%d's steps", i).hasSize(3);
        }
    }

    @Test
    void aWorkerOutOfMemoryExitsWithoutCommittingTheCommand() throws Exception {
        pipeline = LocalPipeline.start(dir, TestRecipes.pipeline().withWorkers(0));
        // The worker's process may hold 1 GB (JavaCPP's limit on its resident memory, which ND4J's arrays count
        // against); a VGG-11 six times as wide as VGG's own has 317 M parameters, 1.27 GB.
        ChildProcess worker = pipeline.startWorker("worker-1", List.of("-Xmx256m",
                "-Dorg.bytedeco.javacpp.maxbytes=512m", "-Dorg.bytedeco.javacpp.maxphysicalbytes=1g"));
        submit(TestRecipes.lenet5("too-big", 0.5, 2, 20).replace("model: lenet5",
                "model: {name: vgg, depth: 11, width: 384}"));

        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (worker.isAlive()) {
            assertThat(System.nanoTime()).as("the worker exits: %s", worker.logTail()).isLessThan(deadline);
            Thread.sleep(200);
        }

        assertThat(worker.exitCode()).hasValue(1);
        assertThat(Files.readString(worker.log())).contains("ran out of memory").contains("OutOfMemoryError");
        assertThat(History.byJob(History.readAll(pipeline.bootstrapServers(), Topics.defaults().reports()), "too-big"))
                .as("no report: the command is neither answered nor failed, it is applied again").isEmpty();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", pipeline.bootstrapServers()))) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("shears-workers")
                    .partitionsToOffsetAndMetadata().get();
            assertThat(committed.values()).as("offsets committed: %s", committed)
                    .allSatisfy(o -> assertThat(o.offset()).isZero());
        }
        JsonNode status = json.readTree(http.send(HttpRequest.newBuilder(pipeline.schedulerUrl()
                .resolve("/jobs/too-big")).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(status.path("state").asText()).as("the job waits for its dense step: %s", status)
                .isEqualTo("submitted");
    }

    private void submit(String recipe) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/jobs"))
                .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString(recipe)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("submit: %s", r.body()).isEqualTo(201);
    }

    private long published() throws IOException, InterruptedException {
        JsonNode jobs = json.readTree(http.send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/jobs"))
                .build(), HttpResponse.BodyHandlers.ofString()).body()).path("jobs");
        long n = 0;
        for (JsonNode j : jobs) {
            assertThat(j.path("state").asText()).as("job %s", j.path("job").asText()).isNotIn("failed", "cancelled");
            n += j.path("state").asText().equals("published") ? 1 : 0;
        }
        return n;
    }

    private Map<String, Double> gauges(URI metrics) throws IOException, InterruptedException {
        String text = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Double> out = new java.util.HashMap<>();
        Matcher m = GAUGE.matcher(text);
        while (m.find()) {
            out.merge(m.group(1), Double.parseDouble(m.group(2)), Math::max);
        }
        return out;
    }
}
