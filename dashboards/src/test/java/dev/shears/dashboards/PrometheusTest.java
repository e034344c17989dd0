package dev.shears.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.Topics;
import dev.shears.deploy.launch.ChildProcess;
import dev.shears.deploy.launch.LocalPipeline;
import dev.shears.deploy.launch.LocalPrometheus;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboards and the alert rules on a real Prometheus (Debian's package) scraping a real pipeline: a KRaft broker,
 * the scheduler and two workers, one job run to publication on the committed data subset, and one undecodable
 * command. Then every PromQL expression of the dashboards must return data over the run (as a panel draws it: a range
 * query, since a job's own meters leave the workers when the job ends), every rule must evaluate and find data over
 * the run for every metric it reads, and the dead-letter alert must be firing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PrometheusTest {
    static final Path QUICK = Path.of("../trainer/src/test/resources/recipes/quick.yaml").toAbsolutePath().normalize();
    static final Path SUBSET = Path.of("../trainer/src/test/resources/fashion-mnist-subset").toAbsolutePath()
            .normalize();
    static final String SUBSET_NAME = "fashion-mnist-subset";
    static final String JOB = "dash-quick";

    @TempDir
    static Path dir;
    LocalPipeline pipeline;
    LocalPrometheus prometheus;
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    void start() throws Exception {
        pipeline = LocalPipeline.start(dir.resolve("pipeline"), LocalPipeline.Options.defaults().withWorkers(2)
                .withDataRoots(java.util.List.of(SUBSET.getParent())));
        List<String> workers = new ArrayList<>();
        for (ChildProcess w : pipeline.workers()) {
            URI metrics = pipeline.workerMetrics(w);
            workers.add(metrics.getHost() + ":" + metrics.getPort());
        }
        URI scheduler = pipeline.schedulerUrl();
        prometheus = LocalPrometheus.start(dir.resolve("prometheus"), List.of(
                new LocalPrometheus.ScrapeJob("shears-scheduler",
                        List.of(scheduler.getHost() + ":" + scheduler.getPort())),
                new LocalPrometheus.ScrapeJob("shears-worker", workers)), Expressions.ruleFiles(),
                Duration.ofSeconds(1));
    }

    @AfterAll
    void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        if (pipeline != null) {
            pipeline.close();
        }
    }

    @Test
    void everyDashboardAndRuleExpressionReturnsDataAndTheDeadLetterAlertFires() throws Exception {
        String recipe = Files.readString(QUICK).replace("job: quick-lenet5", "job: " + JOB) + "data: " + SUBSET_NAME
                + "\n";
        HttpResponse<String> submitted = http.send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/jobs"))
                .POST(HttpRequest.BodyPublishers.ofString(recipe)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
        long started = System.currentTimeMillis() / 1000 - 5;
        awaitState("published", Duration.ofMinutes(5));

        deadLetterOneCommand();
        awaitAlert("ShearsDeadLettersGrowing", Duration.ofSeconds(60));
        Thread.sleep(3000); // a few more scrapes after the last step, so rates over the window see its change

        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (Expressions.Expression e : Expressions.all()) {
            JsonNode r = e.rule() ? query(e.resolved()) : queryRange(e.resolved(), started);
            checked++;
            if (!"success".equals(r.path("status").asText())) {
                failures.add(e + ": " + r.path("error").asText() + " in " + e.resolved());
            } else if (!e.rule() && r.path("data").path("result").isEmpty()) {
                failures.add(e + ": no data for " + e.resolved());
            } else if (e.rule()) {
                for (String metric : e.metrics()) {
                    if (query("count(last_over_time(" + metric + "[10m]))").path("data").path("result").isEmpty()) {
                        failures.add(e + ": no data for metric " + metric);
                    }
                }
            }
        }
        System.out.printf("checked %d expressions on %s%n", checked, prometheus.url());
        assertThat(failures).as("expressions that failed or returned nothing (Prometheus data in %s)", prometheus.dir())
                .isEmpty();
        assertThat(checked).isGreaterThanOrEqualTo(20);
    }

    private void deadLetterOneCommand() throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.defaults().commands(), JOB,
                    "{\"type\":\"PruneStep\",\"version\":1}".getBytes(StandardCharsets.UTF_8))).get();
        }
    }

    private void awaitState(String state, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode job = null;
        while (System.nanoTime() < deadline) {
            job = json
                    .readTree(http.send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/jobs/" + JOB)).build(),
                            HttpResponse.BodyHandlers.ofString()).body());
            if (state.equals(job.path("state").asText())) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("job " + JOB + " not " + state + " within " + timeout + ": " + job + " (logs in "
                + pipeline.logDir() + ")");
    }

    private void awaitAlert(String alert, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode alerts = null;
        while (System.nanoTime() < deadline) {
            alerts = json.readTree(http.send(HttpRequest.newBuilder(prometheus.url().resolve("/api/v1/alerts")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).path("data").path("alerts");
            for (JsonNode a : alerts) {
                if (alert.equals(a.path("labels").path("alertname").asText())
                        && "firing".equals(a.path("state").asText())) {
                    System.out.println("firing: " + a);
                    return;
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError(alert + " not firing within " + timeout + "; alerts: " + alerts);
    }

    private JsonNode query(String promql) throws Exception {
        return get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    }

    /** {@code promql} over [{@code start}, now] in steps of a second, as a dashboard panel queries it. */
    private JsonNode queryRange(String promql, long start) throws Exception {
        return get("/api/v1/query_range?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8) + "&start=" + start
                + "&end=" + System.currentTimeMillis() / 1000 + "&step=1");
    }

    private JsonNode get(String pathAndQuery) throws Exception {
        URI uri = prometheus.url().resolve(pathAndQuery);
        return json
                .readTree(http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body());
    }
}
