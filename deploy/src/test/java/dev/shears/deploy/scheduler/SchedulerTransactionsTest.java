package dev.shears.deploy.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.events.Topics;
import dev.shears.common.recipe.Recipe;
import dev.shears.deploy.broker.EmbeddedKafka;
import dev.shears.scheduler.SchedulerConfig;
import dev.shears.scheduler.SchedulerService;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What one request can do to the scheduler's Kafka transactions: nothing that outlives the request. */
@DisplayName("Scheduler transactions on a real broker")
class SchedulerTransactionsTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final AtomicInteger COUNTER = new AtomicInteger();

    @TempDir
    static Path dataDir;
    static EmbeddedKafka kafka;
    final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start(dataDir);
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** A recipe of {@code steps} quick steps; its text ends with the top-level {@code data} key, so more can follow. */
    static String recipe(String job, int steps) {
        return """
                job: %s
                model: lenet5
                schedule:
                  kind: linear
                  initialSparsity: 0.1
                  finalSparsity: 0.5
                  steps: %d
                fineTune:
                  iterationsPerStep: 10
                accuracyBudget:
                  maxDrop: 0.05
                  policy: stop
                """.formatted(job, steps);
    }

    @Test
    @DisplayName("a recipe whose JobStarted is over the limit only as UTF-8 is refused with its size, and the scheduler"
            + " takes the next job")
    void aJobStartedOverTheLimitOnlyAsUtf8LeavesNoTransactionOpen() throws Exception {
        int n = COUNTER.incrementAndGet();
        Topics topics = new Topics("tx" + n);
        SchedulerService s = SchedulerService.start(SchedulerConfig.of(kafka.bootstrapServers()).withHttp("127.0.0.1", 0)
                .withTopics(topics).withPartitions(1).withTransactionalId("shears-scheduler-tx" + n));
        toClose.add(s);
        toClose.add(new FakeWorker(kafka.bootstrapServers(), topics, false));
        SchedulerHttp api = new SchedulerHttp(s.uri());
        // 349,000 characters of three bytes each: the body is under 1 MiB and the recipe under JobStarted's character
        // count, but the recipe's JSON, written out with every default, is over 1 MiB.
        String wide = recipe("wide", 1) + "data: \"/datasets/" + "\u20ac".repeat(349_000) + "\"\n";
        assertThat(wide.getBytes(StandardCharsets.UTF_8).length).as("the body").isLessThanOrEqualTo(Recipe.MAX_BYTES);
        assertThat(wide.length()).as("characters").isLessThan(512 * 1024);

        HttpResponse<String> refused = api.submit(wide);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(413);
        assertThat(refused.body()).contains("bytes").contains("fix:");
        assertThat(api.send("GET", "/jobs/wide", null).statusCode()).isEqualTo(404);

        HttpResponse<String> next = api.submit(recipe("after-wide", 1));
        assertThat(next.statusCode()).as("the next submission: %s", next.body()).isEqualTo(201);
        api.awaitState("after-wide", "published", WAIT);
        assertThat(api.send("GET", "/health", null).statusCode()).isEqualTo(200);
    }
}
