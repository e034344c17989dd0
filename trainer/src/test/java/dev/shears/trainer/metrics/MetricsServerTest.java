package dev.shears.trainer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.broker.ManualClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import dev.shears.trainer.cpu.NativeBackend;
import org.junit.jupiter.api.Test;

class MetricsServerTest {

    @Test
    void servesTheTrainersMetricsInPrometheusFormatOnLoopback() throws Exception {
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0)) {
            TrainerMetrics metrics = new TrainerMetrics(server.registry(), "w1");
            metrics.sparsity("job-a", 0.5, 0.5, Map.of("fc1.weight", 0.6));
            metrics.evaluation("job-a", "test", 0.88, 0.31);
            metrics.checkpointDuration("job-a", Duration.ofMillis(120));
            metrics.restored("job-a", 2);
            assertThat(server.url()).startsWith("http://127.0.0.1:");

            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(server.url())).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body())
                    .contains("shears_sparsity_achieved{job=\"job-a\"} 0.5")
                    .contains("shears_layer_sparsity{job=\"job-a\",layer=\"fc1.weight\"} 0.6")
                    .contains("shears_accuracy{job=\"job-a\",split=\"test\"} 0.88")
                    .contains("shears_checkpoint_duration_seconds_count{job=\"job-a\"} 1")
                    .contains("shears_restore_steps_lost_total{job=\"job-a\",worker=\"w1\"} 2.0");
        }
    }

    @Test
    void aScrapeFirstRemovesTheMetersOfJobsThatEndedLongerThanTheirLingerAgo() throws Exception {
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0)) {
            ManualClock clock = new ManualClock();
            TrainerMetrics metrics = new TrainerMetrics(server.registry(), "w1", Duration.ofSeconds(30), clock);
            server.beforeScrape(metrics::sweep);
            metrics.evaluation("job-a", "test", 0.88, 0.31);
            metrics.evaluation("job-b", "test", 0.77, 0.41);
            metrics.jobEnded("job-a");
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest scrape = HttpRequest.newBuilder(URI.create(server.url())).build();

            assertThat(http.send(scrape, HttpResponse.BodyHandlers.ofString()).body())
                    .as("within the linger").contains("shears_accuracy{job=\"job-a\",split=\"test\"} 0.88");
            clock.advance(Duration.ofSeconds(30));
            assertThat(http.send(scrape, HttpResponse.BodyHandlers.ofString()).body())
                    .doesNotContain("job=\"job-a\"")
                    .contains("shears_accuracy{job=\"job-b\",split=\"test\"} 0.77");
        }
    }

    @Test
    void healthAndTheInfoGaugeNameTheBackendAndDevicesTheWorkerComputesOn() throws Exception {
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0)) {
            HttpClient http = HttpClient.newHttpClient();
            URI health = URI.create(server.url()).resolve("/health");
            assertThat(http.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString()).body())
                    .as("before the worker reports").isEqualTo("ok\n");

            NativeBackend backend = NativeBackend.current();
            assertThat(backend.backend()).isEqualTo("CPU");
            assertThat(backend.devices()).containsExactly("cpu");
            TrainerMetrics metrics = new TrainerMetrics(server.registry(), "w1");
            metrics.backend(backend);
            server.health(backend.health());

            HttpResponse<String> response = http.send(HttpRequest.newBuilder(health).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body())
                    .isEqualTo("{\"status\":\"ok\",\"backend\":\"CPU\",\"devices\":[\"cpu\"],\"threads\":"
                            + backend.threads() + "}\n");
            assertThat(http.send(HttpRequest.newBuilder(URI.create(server.url())).build(),
                    HttpResponse.BodyHandlers.ofString()).body())
                    .contains("shears_worker_info{backend=\"CPU\",device=\"cpu\",worker=\"w1\"} 1\n");
        }
    }
}
