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
    @DisplayName("a recipe whose JobStarted is over the limit in bytes is refused with its size, and the scheduler"
            + " takes the next job")
    void aJobStartedOverTheLimitLeavesNoTransactionOpen() throws Exception {
        SchedulerHttp api = new SchedulerHttp(scheduler().uri());
        worker();
        // 60,000 parameter globs: the body is 300,000 bytes, under 1 MiB, but the recipe JobStarted carries, written
        // out one glob a line with every default, is over its 524,288 bytes. (Recipes hold no free text: a recipe
        // over the limit only as UTF-8, as this test once sent, no longer validates.)
        String wide = withGlobs(recipe("wide", 1), 60_000);
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
        // 48,000 globs: about 480,000 bytes of recipe, within JobStarted's 524,288; the state's JSON escapes the quotes
        // and the line end of each glob's line, 13 bytes for 10.
        String escaped = withGlobs(recipe("escaped", 1), 48_000);

        HttpResponse<String> refused = api.submit(escaped);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(413);
        assertThat(refused.body()).contains("state of job escaped").contains("fix:");
        HttpResponse<String> next = api.submit(recipe("after-escaped", 1));
        assertThat(next.statusCode()).as(next.body()).isEqualTo(201);
        api.awaitState("after-escaped", "published", WAIT);
    }

    /** {@code recipe} pruning the parameters of {@code count} globs {@code "a"} (a recipe that writes out long). */
    static String withGlobs(String recipe, int count) {
        return recipe.replace("model: lenet5\n", "model: lenet5\npruning:\n  parameters: ["
                + String.join(", ", java.util.Collections.nCopies(count, "\"a\"")) + "]\n");
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
