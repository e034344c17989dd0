package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.common.events.JobFailed;
import dev.shears.common.events.PruneStep;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The scheduler's state on a real broker: bounded in bytes however long a job runs and whatever its reports say,
 * forgotten on request or after the retention, and rebuilt at a restart from the last record of each job.
 */
@DisplayName("Scheduler state on a real broker")
class SchedulerStateTest extends BrokerTestBase {
    /** The state record's bound, {@code Job.STATE_BYTES}. */
    static final int STATE_BYTES = 768 * 1024;

    @Test
    @DisplayName("a job of 2,100 steps, flooded once with stale failures of long non-ASCII reasons, runs to"
            + " publication, and every state record it wrote stays under the bound")
    void aJobOfThousandsOfStepsKeepsItsStateBounded() throws Exception {
        SchedulerHttp api = new SchedulerHttp(scheduler().uri());
        FakeWorker w = worker();
        // 1,000 characters of 3 bytes each: a history detail of 3,000 bytes, the most the scheduler kept until now
        String reason = "CUDA error at /data/\u30c7\u30fc\u30bf/ " + "\u6570".repeat(1000);
        w.beforeAnswer = command -> {
            if (command.payload() instanceof PruneStep p && p.step() == 10) {
                for (int i = 0; i < 400; i++) {
                    w.report(command.jobId(), 9, new JobFailed(9, "PruneStep", 1, reason, "fake-0", false));
                }
            }
        };
        int steps = 2_100;
        HttpResponse<String> created = api.submit(recipe("long", steps));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        api.awaitState("long", "published", Duration.ofMinutes(4));

        JsonNode job = api.job("long");
        assertThat(job.path("step").asLong()).isEqualTo(steps);
        assertThat(job.path("history").size()).isBetween(20, 500);
        assertThat(job.path("historyTrimmed").asLong()).as("trimmed entries are counted")
                .isEqualTo(2L * steps + 2 + 2 + 400 - job.path("history").size());
        assertThat(job.path("results").size()).isEqualTo(2_000);
        assertThat(job.path("resultsTrimmed").asLong()).isEqualTo(steps + 1 - 2_000);
        assertThat(w.types("long")).as("the full history is on the commands topic").hasSize(steps + 2);

        List<ConsumerRecord<String, byte[]>> states = stateRecords();
        assertThat(states).as("state records of job long").isNotEmpty();
        assertThat(states).allSatisfy(r -> assertThat(r.value().length).as("a state record of job %s", r.key())
                .isLessThanOrEqualTo(STATE_BYTES));
    }

    @Test
    @DisplayName("DELETE /jobs/{id} is refused for a running job, forgets an ended one (tombstone, gauges) for good")
    void deleteForgetsAnEndedJob() throws Exception {
        SchedulerService first = scheduler();
        SchedulerHttp api = new SchedulerHttp(first.uri());
        FakeWorker w = worker();
        w.holdAbove.set(0);
        assertThat(api.submit(recipe("kept", 2)).statusCode()).isEqualTo(201);
        assertThat(api.submit(recipe("gone", 2)).statusCode()).isEqualTo(201);
        api.awaitState("gone", "pruning", Duration.ofSeconds(30));
        HttpResponse<String> running = api.send("DELETE", "/jobs/gone", null);
        assertThat(running.statusCode()).as(running.body()).isEqualTo(409);
        assertThat(running.body()).contains("cancel it first");

        w.holdAbove.set(Long.MAX_VALUE);
        api.awaitState("gone", "published", Duration.ofSeconds(30));
        api.awaitState("kept", "published", Duration.ofSeconds(30));
        assertThat(api.metrics()).contains("shears_scheduler_job_step{job=\"gone\"}");
        assertThat(api.send("DELETE", "/jobs/gone", null).statusCode()).isEqualTo(204);
        assertThat(api.send("GET", "/jobs/gone", null).statusCode()).isEqualTo(404);
        assertThat(api.send("DELETE", "/jobs/gone", null).statusCode()).isEqualTo(404);
        assertThat(api.metrics()).doesNotContain("job=\"gone\"").contains("shears_scheduler_job_step{job=\"kept\"}");
        List<ConsumerRecord<String, byte[]>> states = stateRecords();
        assertThat(states.get(states.size() - 1).key()).isEqualTo("gone");
        assertThat(states.get(states.size() - 1).value()).as("a tombstone").isNull();

        first.close();
        SchedulerHttp restarted = new SchedulerHttp(scheduler().uri());
        assertThat(restarted.send("GET", "/jobs/gone", null).statusCode()).isEqualTo(404);
        assertThat(restarted.job("kept").path("state").asText()).isEqualTo("published");
    }

    @Test
    @DisplayName("an ended job is forgotten once the retention has passed; a running one is kept")
    void endedJobsAreForgottenAfterTheRetention() throws Exception {
        SchedulerHttp api = new SchedulerHttp(scheduler(c -> c.withRetainEnded(Duration.ofSeconds(2)),
                cause -> {}).uri());
        FakeWorker w = worker();
        assertThat(api.submit(recipe("brief", 1)).statusCode()).isEqualTo(201);
        api.awaitState("brief", "published", Duration.ofSeconds(30));
        w.holdAbove.set(0);
        assertThat(api.submit(recipe("slow", 1)).statusCode()).isEqualTo(201);

        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(api.send("GET", "/jobs/brief", null).statusCode()).isEqualTo(404));
        assertThat(api.metrics()).doesNotContain("job=\"brief\"");
        Thread.sleep(3_000);
        assertThat(api.job("slow").path("state").asText()).isEqualTo("pruning");
    }

    @Test
    @DisplayName("a restart rebuilds each job from its last record only, tombstones honoured, and says how long it took")
    void aRestartRebuildsFromTheLastRecordOfEachJob() throws Exception {
        int jobs = Integer.getInteger("shears.restart.jobs", 1_000);
        SchedulerService first = scheduler();
        SchedulerHttp api = new SchedulerHttp(first.uri());
        worker();
        assertThat(api.submit(recipe("template-job", 3)).statusCode()).isEqualTo(201);
        api.awaitState("template-job", "published", Duration.ofSeconds(30));
        first.close();
        String template = null;
        for (ConsumerRecord<String, byte[]> r : stateRecords()) {
            template = new String(r.value(), StandardCharsets.UTF_8);
        }
        assertThat(template).contains("\"state\":\"published\"");

        // Three records per job, the last one published; every tenth job deleted afterwards.
        String running = template.replace("\"state\":\"published\"", "\"state\":\"pruning\"");
        Map<String, Object> p = new HashMap<>(kafka.broker().clientProperties());
        p.put("acks", "all");
        p.put("linger.ms", 20);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < jobs; i++) {
                String id = String.format("ended-%05d", i);
                for (String version : List.of(running, running, template)) {
                    producer.send(new ProducerRecord<>(topics.state(), id,
                            version.replace("template-job", id).getBytes(StandardCharsets.UTF_8)));
                }
                if (i % 10 == 0) {
                    producer.send(new ProducerRecord<>(topics.state(), id, null));
                }
            }
        }

        long started = System.nanoTime();
        SchedulerService second = scheduler();
        long millis = Duration.ofNanos(System.nanoTime() - started).toMillis();
        System.out.printf("restart with %d ended jobs (%d state records written, every tenth job deleted): %d ms%n",
                jobs, jobs * 3 + (jobs + 9) / 10, millis);
        SchedulerHttp rebuilt = new SchedulerHttp(second.uri());
        JsonNode list = SchedulerHttp.JSON.readTree(rebuilt.send("GET", "/jobs", null).body()).path("jobs");
        Map<String, String> states = new LinkedHashMap<>();
        list.forEach(j -> states.put(j.path("job").asText(), j.path("state").asText()));
        assertThat(states).hasSize(jobs - (jobs + 9) / 10 + 1);
        assertThat(states.values()).containsOnly("published");
        assertThat(states).doesNotContainKey("ended-00000").containsKey("ended-00001");
        assertThat(rebuilt.metrics()).contains("shears_scheduler_jobs{state=\"published\"} " + states.size() + ".0");
    }

    /** Every committed record of this test's state topic, in order. */
    private List<ConsumerRecord<String, byte[]>> stateRecords() {
        Map<String, Object> c = new HashMap<>(kafka.broker().clientProperties());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 << 20);
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            var parts = consumer.partitionsFor(topics.state()).stream()
                    .map(i -> new org.apache.kafka.common.TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<org.apache.kafka.common.TopicPartition, Long> end = consumer.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
