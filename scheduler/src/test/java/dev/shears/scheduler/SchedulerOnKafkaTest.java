package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.CommandKey;
import dev.shears.common.events.DeadLetter;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobFailed;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.RollBack;
import dev.shears.common.events.Topics;
import dev.shears.common.kafka.DeadLetters;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The scheduler service against a real KRaft broker, with a fake worker on the other side of the topics. */
@DisplayName("Scheduler on a real broker")
class SchedulerOnKafkaTest extends BrokerTestBase {

    static final Duration WAIT = Duration.ofSeconds(30);
    static final ObjectMapper JSON = new ObjectMapper();

    final HttpClient http = HttpClient.newHttpClient();

    FakeWorker worker(boolean duplicate) {
        FakeWorker w = new FakeWorker(kafka.bootstrapServers(), topics, duplicate);
        toClose.add(w);
        return w;
    }

    /** A worker whose step 2 of attempt 1 misses the accuracy budget (0.5 against a dense 0.9). */
    FakeWorker workerBelowBudgetAtStep2() {
        FakeWorker w = worker(false);
        w.accuracy = (seq, attempt) -> seq == 2 && attempt == 1 ? 0.5 : 0.9;
        return w;
    }

    HttpResponse<String> post(SchedulerService s, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(s.uri().resolve(path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(SchedulerService s, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(s.uri().resolve(path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    JsonNode job(SchedulerService s, String id) throws Exception {
        HttpResponse<String> r = get(s, "/jobs/" + id);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    void awaitState(SchedulerService s, String id, String state) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(job(s, id).path("state").asText()).isEqualTo(state));
    }

    @Test
    @DisplayName("a submitted job runs through the closed loop to publication, and the API shows it")
    void runsAJobToPublication() throws Exception {
        SchedulerService s = scheduler();
        FakeWorker w = worker(false);
        HttpResponse<String> created = post(s, "/jobs", recipe("alpha", 3));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(JSON.readTree(created.body()).path("state").asText()).isEqualTo("submitted");
        awaitState(s, "alpha", "published");

        assertThat(w.types("alpha")).containsExactly("JobStarted", "PruneStep", "PruneStep", "PruneStep", "Finalize");
        JsonNode job = job(s, "alpha");
        assertThat(job.path("step").asLong()).isEqualTo(3);
        assertThat(job.path("steps").asInt()).isEqualTo(3);
        assertThat(job.path("denseAccuracy").asDouble()).isEqualTo(0.9);
        assertThat(job.path("worker").asText()).isEqualTo("fake-0");
        assertThat(job.path("publication").path("path").asText()).isEqualTo("/models/alpha.zip");
        assertThat(job.path("history")).hasSize(10);
        assertThat(job.has("internal")).isFalse();

        JsonNode list = JSON.readTree(get(s, "/jobs").body());
        assertThat(list.path("jobs")).singleElement().satisfies(j -> {
            assertThat(j.path("job").asText()).isEqualTo("alpha");
            assertThat(j.has("history")).isFalse();
        });
        String metrics = get(s, "/metrics").body();
        assertThat(metrics).contains("shears_scheduler_jobs{state=\"published\"} 1.0");
        assertThat(metrics)
                .containsPattern("shears_events_produced_total\\{service=\"scheduler\",type=\"PruneStep\"} 3");
        assertThat(metrics)
                .containsPattern("shears_events_consumed_total\\{service=\"scheduler\",type=\"StepCompleted\"} 4");
        assertThat(metrics).contains("shears_scheduler_step_duration_seconds_count{job=\"alpha\"} 4");

        assertThat(post(s, "/jobs", recipe("alpha", 3)).statusCode()).as("same job id").isEqualTo(409);
        assertThat(post(s, "/jobs/alpha/cancel", "").statusCode()).as("cancel an ended job").isEqualTo(409);
        assertThat(get(s, "/jobs/nope").statusCode()).isEqualTo(404);
    }

    @Test
    @DisplayName("a step below the budget is rolled back and retried with a smaller step, every decision on commands")
    void rollsBackOverKafka() throws Exception {
        SchedulerService s = scheduler();
        FakeWorker w = workerBelowBudgetAtStep2();
        assertThat(post(s, "/jobs", recipe("zeta", 3).replace("policy: stop", "policy: rollback")).statusCode())
                .isEqualTo(201);
        awaitState(s, "zeta", "published");
        assertThat(w.types("zeta")).containsExactly("JobStarted", "PruneStep", "PruneStep", "SchedulerDecision",
                "RollBack", "PruneStep", "PruneStep", "Finalize");
        List<PruneStep> steps = w.received.stream().filter(e -> e.jobId().equals("zeta"))
                .map(Event::payload).filter(PruneStep.class::isInstance).map(PruneStep.class::cast).toList();
        assertThat(steps.get(2).step()).isEqualTo(2);
        assertThat(steps.get(2).attempt()).isEqualTo(2);
        assertThat(steps.get(2).targetSparsity()).isCloseTo((steps.get(0).targetSparsity()
                + steps.get(1).targetSparsity()) / 2, org.assertj.core.data.Offset.offset(1e-12));
        JsonNode job = job(s, "zeta");
        assertThat(job.path("results")).extracting(r -> r.path("decision").asText())
                .containsExactly("dense", "ok", "rollback", "ok", "ok");
        assertThat(get(s, "/metrics").body()).contains("shears_scheduler_decisions_total{decision=\"rollback\"} 1.0");
    }

    /** It used to be taken for the failure of the PruneStep after it: that step went again, on the over-pruned model. */
    @Test
    @DisplayName("a RollBack that failed is sent again, and the smaller step waits for its answer")
    void sendsAFailedRollBackAgain() throws Exception {
        SchedulerService s = scheduler();
        FakeWorker w = workerBelowBudgetAtStep2();
        w.insteadOfTheFirst(RollBack.class, command -> Event.of(command.jobId(), command.seq(),
                JobFailed.of(command, "java.io.IOException: disk", "fake-0", true)));
        assertThat(post(s, "/jobs", recipe("theta", 3).replace("policy: stop", "policy: rollback")).statusCode())
                .isEqualTo(201);
        awaitState(s, "theta", "published");

        assertThat(w.types("theta")).containsExactly("JobStarted", "PruneStep", "PruneStep", "SchedulerDecision",
                "RollBack", "SchedulerDecision", "RollBack", "PruneStep", "PruneStep", "Finalize");
        assertThat(job(s, "theta").path("history")).anySatisfy(h -> assertThat(h.path("detail").asText())
                .startsWith("retry: retry 1 of"));
    }

    /**
     * The worker fell back to the step's first checkpoint (the extra fine-tune's was found damaged) before the
     * Finalize: it used to publish that model, the one the accuracy budget refused.
     */
    @Test
    @DisplayName("a lost extra fine-tune is sent again under a new attempt, and the Finalize names it")
    void sendsALostExtraFineTuneAgain() throws Exception {
        SchedulerService s = scheduler();
        FakeWorker w = workerBelowBudgetAtStep2();
        w.insteadOfTheFirst(Finalize.class, command -> Event.of(command.jobId(), 2,
                new JobResumed(2, 1, 0, List.of(new CommandKey(2, 2)), "fake-0")));
        assertThat(post(s, "/jobs", recipe("iota", 2).replace("policy: stop", "policy: extra_fine_tune")).statusCode())
                .isEqualTo(201);
        awaitState(s, "iota", "published");

        assertThat(w.types("iota")).containsExactly("JobStarted", "PruneStep", "PruneStep", "SchedulerDecision",
                "PruneStep", "Finalize", "SchedulerDecision", "PruneStep", "Finalize");
        List<Finalize> finals = w.received.stream().filter(e -> e.jobId().equals("iota")).map(Event::payload)
                .filter(Finalize.class::isInstance).map(Finalize.class::cast).toList();
        assertThat(finals).containsExactly(new Finalize(2, 2), new Finalize(2, 3));
    }

    @Test
    @DisplayName("an invalid recipe is refused with each problem's field and message, an oversized one with 413")
    void refusesBadRecipes() throws Exception {
        SchedulerService s = scheduler();
        HttpResponse<String> bad = post(s, "/jobs", recipe("Bad Name", 3).replace("finalSparsity: 0.5",
                "finalSparsity: 1.5"));
        assertThat(bad.statusCode()).isEqualTo(400);
        JsonNode problems = JSON.readTree(bad.body()).path("problems");
        assertThat(problems).extracting(p -> p.path("field").asText()).contains("job", "schedule.finalSparsity");
        assertThat(problems.get(0).path("message").asText()).isNotBlank();
        assertThat(post(s, "/jobs", "x".repeat((1 << 20) + 1)).statusCode()).isEqualTo(413);
        assertThat(get(s, "/health").statusCode()).isEqualTo(200);
    }

    @Test
    @DisplayName("a duplicate StepCompleted is ignored: one command per step, and counted")
    void ignoresDuplicates() throws Exception {
        SchedulerService s = scheduler();
        FakeWorker w = worker(true);
        assertThat(post(s, "/jobs", recipe("beta", 2)).statusCode()).isEqualTo(201);
        awaitState(s, "beta", "published");
        assertThat(w.types("beta")).containsExactly("JobStarted", "PruneStep", "PruneStep", "Finalize");
        JsonNode history = job(s, "beta").path("history");
        long ignored = 0;
        for (JsonNode h : history) {
            if (!h.path("accepted").asBoolean()) {
                ignored++;
                assertThat(h.path("detail").asText()).startsWith("ignored duplicate");
            }
        }
        // The last duplicate may still be in flight when the job is published
        await().atMost(WAIT).untilAsserted(() -> assertThat(get(s, "/metrics").body())
                .contains("shears_scheduler_reports_ignored_total{reason=\"duplicate\"} 3.0"));
        assertThat(ignored).isBetween(2L, 3L);
    }

    @Test
    @DisplayName("a restarted scheduler rebuilds the job from the state topic and carries on")
    void carriesOnAfterARestart() throws Exception {
        SchedulerService first = scheduler();
        FakeWorker w = worker(false);
        w.holdAbove.set(1);
        assertThat(post(first, "/jobs", recipe("gamma", 3)).statusCode()).isEqualTo(201);
        await().atMost(WAIT).until(() -> !w.held.isEmpty());
        JsonNode before = job(first, "gamma");
        assertThat(before.path("state").asText()).isEqualTo("pruning");
        assertThat(before.path("step").asLong()).isEqualTo(1);
        first.close();

        SchedulerService second = scheduler();
        JsonNode rebuilt = job(second, "gamma");
        assertThat(rebuilt.path("state").asText()).isEqualTo("pruning");
        assertThat(rebuilt.path("step").asLong()).isEqualTo(1);
        assertThat(rebuilt.path("history")).isEqualTo(before.path("history"));
        w.holdAbove.set(Long.MAX_VALUE);
        awaitState(second, "gamma", "published");
        assertThat(w.types("gamma")).as("the awaited command was not sent again")
                .containsExactly("JobStarted", "PruneStep", "PruneStep", "PruneStep", "Finalize");
    }

    @Test
    @DisplayName("an undecodable report goes to reports.DLT with the headers, and the scheduler goes on")
    void deadLettersUndecodableReports() throws Exception {
        SchedulerService s = scheduler();
        FakeWorker w = worker(false);
        w.sendRaw("delta", "{not json".getBytes(StandardCharsets.UTF_8));
        assertThat(post(s, "/jobs", recipe("delta", 1)).statusCode()).isEqualTo(201);
        awaitState(s, "delta", "published");

        ConsumerRecord<String, byte[]> r = theDeadLetter();
        assertThat(r.key()).isEqualTo("delta");
        assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo("{not json");
        assertThat(header(r, DeadLetter.REASON)).isEqualTo("malformed");
        assertThat(header(r, DeadLetter.SOURCE_TOPIC)).isEqualTo(topics.reports());
        assertThat(header(r, DeadLetter.SOURCE_OFFSET)).isEqualTo("0");
        assertThat(header(r, DeadLetter.DETAIL)).isNotBlank();
        assertThat(get(s, "/metrics").body())
                .contains("shears_events_deadlettered_total{reason=\"malformed\",service=\"scheduler\"} 1.0");
    }

    /**
     * Its dead-letter copy with the headers used to exceed the producer's max.request.size: every transaction holding
     * it aborted, and the scheduler read the same batch forever.
     */
    @Test
    @DisplayName("a report just under the size limit goes to reports.DLT cut to fit, with its digest and size")
    void deadLettersAReportJustUnderTheSizeLimit() throws Exception {
        SchedulerService s = scheduler();
        FakeWorker w = worker(false);
        byte[] huge = new byte[EventCodec.MAX_BYTES - 200];
        java.util.Arrays.fill(huge, (byte) 'x');
        w.sendRaw("eta", huge);
        assertThat(post(s, "/jobs", recipe("eta", 1)).statusCode()).isEqualTo(201);
        awaitState(s, "eta", "published");

        ConsumerRecord<String, byte[]> r = theDeadLetter();
        String sha256 = java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(huge));
        assertThat(r.key()).isEqualTo("eta");
        assertThat(r.value()).hasSizeLessThan(huge.length).isEqualTo(java.util.Arrays.copyOf(huge, r.value().length));
        assertThat(header(r, DeadLetters.VALUE_BYTES)).isEqualTo(Integer.toString(huge.length));
        assertThat(header(r, DeadLetters.VALUE_SHA256)).isEqualTo(sha256);
    }

    /** The one record of the reports' dead-letter topic (read_committed). */
    ConsumerRecord<String, byte[]> theDeadLetter() {
        Map<String, Object> c = new HashMap<>(kafka.broker().clientProperties());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, byte[]> dlt = new KafkaConsumer<>(c, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<ConsumerRecord<String, byte[]>> records = readAll(dlt, Topics.dlt(topics.reports()), 1);
            assertThat(records).hasSize(1);
            return records.get(0);
        }
    }

    @Test
    @DisplayName("read_committed consumers see commands only from committed transactions: a zombie's open one is fenced")
    void fencesTheZombieAndHidesItsUncommittedCommands() throws Exception {
        kafka.broker().createTopic(topics.commands(), 2);
        Map<String, Object> p = new HashMap<>(kafka.broker().clientProperties());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config().transactionalId());
        EventCodec codec = new EventCodec();
        try (KafkaProducer<String, byte[]> zombie = new KafkaProducer<>(p, new StringSerializer(),
                new ByteArraySerializer())) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>(topics.commands(), "zombie",
                    codec.encode(Event.of("zombie", 1, new PruneStep(1, 0.5, 1, false, 1))))).get();
            zombie.flush();

            SchedulerService s = scheduler();
            FakeWorker w = worker(false);
            assertThat(post(s, "/jobs", recipe("epsilon", 1)).statusCode()).isEqualTo(201);
            awaitState(s, "epsilon", "published");
            assertThat(w.received).extracting(Event::jobId).containsOnly("epsilon");
            assertThatThrownBy(zombie::commitTransaction).as("the scheduler's start fenced the zombie")
                    .isInstanceOfAny(ProducerFencedException.class, InvalidProducerEpochException.class);

            Map<String, Object> c = new HashMap<>(kafka.broker().clientProperties());
            c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
            try (KafkaConsumer<String, byte[]> uncommitted = new KafkaConsumer<>(c, new StringDeserializer(),
                    new ByteArrayDeserializer())) {
                List<String> keys = readAll(uncommitted, topics.commands(), 4).stream().map(ConsumerRecord::key)
                        .toList();
                assertThat(keys).as("the zombie's record is in the log, aborted").contains("zombie");
            }
        }
    }

    static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Every record of {@code topic} from the beginning, polling until at least {@code min} came or the wait ends. */
    static List<ConsumerRecord<String, byte[]>> readAll(KafkaConsumer<String, byte[]> consumer, String topic, int min) {
        List<TopicPartition> parts = consumer.partitionsFor(topic).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            if (out.size() >= min) {
                consumer.poll(Duration.ofMillis(300)).forEach(out::add);
                break;
            }
        }
        return out;
    }
}
