package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.common.recipe.Recipe;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What one request can do to the scheduler's Kafka transactions: nothing that outlives the request. */
@DisplayName("Scheduler transactions on a real broker")
class SchedulerTransactionsTest extends BrokerTestBase {
    static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    @DisplayName("a recipe whose JobStarted is over the limit only as UTF-8 is refused with its size, and the"
            + " scheduler takes the next job")
    void aJobStartedOverTheLimitOnlyAsUtf8LeavesNoTransactionOpen() throws Exception {
        SchedulerHttp api = new SchedulerHttp(scheduler().uri());
        worker();
        // 349,000 characters of three bytes each: the body is under 1 MiB, and under JobStarted's old bound of
        // 524,288 characters, but the recipe's JSON, written out with every default, is over 1 MiB.
        String wide = recipe("wide", 1).replace("model: lenet5", "model: \"file:/models/" + "\u20ac".repeat(349_000)
                + ".zip\"");
        assertThat(wide.getBytes(StandardCharsets.UTF_8).length).as("the body").isLessThanOrEqualTo(Recipe.MAX_BYTES);

        HttpResponse<String> refused = api.submit(wide);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(413);
        assertThat(refused.body()).contains("bytes").contains("fix:");
        assertThat(api.send("GET", "/jobs/wide", null).statusCode()).isEqualTo(404);

        HttpResponse<String> next = api.submit(recipe("after-wide", 1));
        assertThat(next.statusCode()).as("the next submission: %s", next.body()).isEqualTo(201);
        api.awaitState("after-wide", "published", WAIT);
        assertThat(api.send("GET", "/health", null).statusCode()).isEqualTo(200);
    }

    @Test
    @DisplayName("a recipe that would leave its state no room for a history is refused with its size")
    void aRecipeWhoseStateWouldNotFitIsRefusedAtSubmission() throws Exception {
        SchedulerHttp api = new SchedulerHttp(scheduler().uri());
        worker();
        // 300,000 bytes of recipe, within JobStarted's 524,288; the state's JSON writes each backslash twice.
        String escaped = recipe("escaped", 1).replace("model: lenet5", "model: \"file:/models/"
                + "\\\\".repeat(150_000) + ".zip\"");

        HttpResponse<String> refused = api.submit(escaped);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(413);
        assertThat(refused.body()).contains("state of job escaped").contains("fix:");
        HttpResponse<String> next = api.submit(recipe("after-escaped", 1));
        assertThat(next.statusCode()).as(next.body()).isEqualTo(201);
        api.awaitState("after-escaped", "published", WAIT);
    }

    @Test
    @DisplayName("a fenced scheduler refuses work with 503, says it is down on /health and in its metrics, and hands"
            + " the cause to onFatal so that the process exits")
    void aFencedSchedulerReportsItselfDownAndExits() throws Exception {
        AtomicReference<Throwable> fatal = new AtomicReference<>();
        SchedulerService s = scheduler(c -> c, fatal::set);
        SchedulerHttp api = new SchedulerHttp(s.uri());
        assertThat(api.send("GET", "/health", null).statusCode()).isEqualTo(200);
        assertThat(api.metrics()).contains("shears_scheduler_running 1.0");

        Map<String, Object> p = new HashMap<>(kafka.broker().clientProperties());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config().transactionalId());
        try (KafkaProducer<String, byte[]> usurper = new KafkaProducer<>(p, new StringSerializer(),
                new ByteArraySerializer())) {
            usurper.initTransactions();
        }
        HttpResponse<String> refused = api.submit(recipe("after-fence", 1));
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);

        await().atMost(WAIT).untilAsserted(() -> assertThat(fatal.get()).isInstanceOf(KafkaException.class));
        assertThat(s.running()).isFalse();
        HttpResponse<String> health = api.send("GET", "/health", null);
        assertThat(health.statusCode()).isEqualTo(503);
        JsonNode body = SchedulerHttp.JSON.readTree(health.body());
        assertThat(body.path("status").asText()).isEqualTo("down");
        assertThat(body.path("reason").asText()).contains("fenced").contains("transactional id");
        assertThat(api.metrics()).contains("shears_scheduler_running 0.0");
        assertThat(api.submit(recipe("after-stop", 1)).statusCode()).isEqualTo(503);
    }
}
