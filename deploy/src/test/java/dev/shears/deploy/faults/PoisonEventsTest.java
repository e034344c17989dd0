package dev.shears.deploy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.common.events.DeadLetter;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobFailed;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.deploy.launch.LocalPipeline;
import dev.shears.deploy.pipeline.TestRecipes;
import dev.shears.deploy.pipeline.History;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * 1,000 generated bad records, half on the commands topic (read by the workers), half on the reports topic (read by
 * the scheduler), on the real pipeline. Each record that does not decode lands in {@code <topic>.DLT} with the reason
 * its category calls for; a valid event that cannot be applied (a command for a job no worker knows, a gap in the
 * seqs) is answered by a {@code JobFailed}, a report for an unknown job is ignored, as EVENTS.md says. The counts are
 * compared, then a job submitted afterwards must publish.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PoisonEventsTest {
    static final int RECORDS = 1000;
    static final Duration TIMEOUT = Duration.ofMinutes(4);
    static final ObjectMapper JSON = new ObjectMapper();

    /** A kind of bad record: how to make it from a valid event's JSON, and the dead-letter reason, or null when valid. */
    record Category(String name, String reason, Function<ObjectNode, byte[]> make) {
    }

    @TempDir
    static Path dir;
    LocalPipeline pipeline;
    final Topics topics = Topics.defaults();
    final EventCodec codec = new EventCodec();

    @BeforeAll
    void start() {
        pipeline = LocalPipeline.start(dir, TestRecipes.pipeline().withWorkers(1).withSessionTimeoutMs(6000));
    }

    @AfterAll
    void stop() {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    static List<Category> categories() {
        List<Category> c = new ArrayList<>();
        c.add(new Category("not JSON", "malformed", e -> bytes("this is { not json")));
        c.add(new Category("truncated", "malformed", e -> {
            byte[] b = bytes(e.toString());
            return java.util.Arrays.copyOf(b, b.length / 2);
        }));
        c.add(new Category("array", "malformed", e -> bytes("[" + e + "]")));
        c.add(new Category("empty", "malformed", e -> new byte[0]));
        c.add(new Category("JSON null", "malformed", e -> bytes("null")));
        c.add(new Category("duplicate key", "malformed", e -> bytes(e.toString().replaceFirst("\\{", "{\"seq\":0,"))));
        c.add(new Category("trailing data", "malformed", e -> bytes(e + " {}")));
        c.add(new Category("nested 40 deep", "malformed", e -> bytes(e.toString().replaceFirst("\\{",
                "{\"deep\":" + "[".repeat(40) + "]".repeat(40) + ","))));
        c.add(new Category("not UTF-8", "malformed", e -> {
            String json = e.toString();
            int at = json.indexOf("\"time\":\"") + 8;
            byte[] head = bytes(json.substring(0, at));
            byte[] tail = bytes(json.substring(at));
            byte[] b = java.util.Arrays.copyOf(head, head.length + 1 + tail.length);
            b[head.length] = (byte) 0xff;
            System.arraycopy(tail, 0, b, head.length + 1, tail.length);
            return b;
        }));
        c.add(new Category("binary", "malformed", e -> new byte[]{(byte) 0xff, (byte) 0xfe, 0, 1, 2, (byte) 0x80}));
        c.add(new Category("wrong type", "invalid_field", e -> {
            ((ObjectNode) e.get("payload")).put("targetSparsity", "0.5");
            return bytes(e.toString());
        }));
        c.add(new Category("seq as float", "invalid_field", e -> bytes(e.put("seq", 3.5).toString())));
        c.add(new Category("unknown type", "unknown_type", e -> bytes(e.put("type", "ExplodeStep").toString())));
        c.add(new Category("future version", "unsupported_version",
                e -> bytes(e.put("version", Event.VERSION + 1).toString())));
        c.add(new Category("missing eventId", "missing_field", e -> {
            e.remove("eventId");
            return bytes(e.toString());
        }));
        c.add(new Category("null payload", "missing_field", e -> bytes(e.putNull("payload").toString())));
        c.add(new Category("job id ../", "bad_job_id", e -> bytes(e.put("jobId", "../../etc/passwd").toString())));
        c.add(new Category("job id control", "bad_job_id",
                e -> bytes(e.put("jobId", "job\u0007\u001b[2J").toString())));
        c.add(new Category("negative seq", "negative_seq", e -> bytes(e.put("seq", -1).toString())));
        c.add(new Category("control characters in text", "invalid_field", e -> {
            e.put("type", "CancelJob").putObject("payload").put("reason", "stop\u0000\u001b[2J\u0007");
            return bytes(e.toString());
        }));
        c.add(new Category("bad eventId", "invalid_field", e -> bytes(e.put("eventId", "not-a-uuid").toString())));
        return c;
    }

    /** The valid events the bad ones are made from: a command for the commands topic, a report for the reports topic. */
    static ObjectNode command(String job) {
        return tree(Event.of(job, 3, new PruneStep(3, 0.5, 100, false, 1)));
    }

    static ObjectNode report(String job) {
        return tree(Event.of(job, 3, new StepCompleted(3, 1, 0.5, 0.5, Map.of("conv1.weight", 0.5), 0.8, 0.79, 0.4,
                "ckpt-000003-0000000100", "worker-x", false)));
    }

    static ObjectNode tree(Event e) {
        try {
            return (ObjectNode) JSON.readTree(new EventCodec().encode(e));
        } catch (java.io.IOException x) {
            throw new IllegalStateException(x);
        }
    }

    @Test
    void everyBadRecordIsDeadLetteredOrAnsweredAndTheServicesKeepWorking() throws Exception {
        List<Category> categories = categories();
        Map<String, Integer> expectedDlt = new TreeMap<>();
        Map<String, Integer> sentByCategory = new TreeMap<>();
        int ghostCommands = 0;
        int ghostReports = 0;
        java.util.Set<String> ghostReportJobs = new java.util.HashSet<>();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(),
                new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) {
                boolean toCommands = i % 2 == 0;
                String topic = toCommands ? topics.commands() : topics.reports();
                int kind = (i / 2) % (categories.size() + 3);
                String key = "poison-" + i;
                byte[] value;
                String name;
                if (kind < categories.size()) {
                    Category c = categories.get(kind);
                    value = c.make().apply(toCommands ? command(key) : report(key));
                    expectedDlt.merge(topic + " " + c.reason(), 1, Integer::sum);
                    name = c.name();
                    // The category makes the record it says: the codec gives the reason expected of it.
                    Decoded d = codec.decode(value);
                    assertThat(d).as("%s on %s", c.name(), topic).isInstanceOfSatisfying(
                            dev.shears.common.events.Rejection.class,
                            r -> assertThat(r.reason().code()).as("%s: %s", c.name(), r).isEqualTo(c.reason()));
                } else {
                    // Valid but inapplicable: a job nobody knows, a gap, control characters in a text a worker logs.
                    String ghost = "ghost-" + i;
                    int variant = kind - categories.size();
                    Event e = toCommands
                            ? switch (variant) {
                                case 0 -> Event.of(ghost, 3, new PruneStep(3, 0.5, 100, false, 1));
                                case 1 -> Event.of(ghost, 6, new Finalize(5, 1));
                                default -> Event.of(ghost, 4, new PruneStep(4, 0.6, 10, false, 2));
                            }
                            : switch (variant) {
                                case 0 -> Event.of(ghost, 3, new StepCompleted(3, 1, 0.5, 0.5, Map.of("c.w", 0.5), 0.8,
                                        0.79, 0.4, "ckpt-000003-0000000100", "worker-x", false));
                                case 1 ->
                                    Event.of(ghost, 2, new JobFailed(2, "PruneStep", 1, "boom\ttab", "worker-x", true));
                                default -> Event.of(ghost, 6, ModelPublished.withoutCost(ghost, "v1", "/x/model.zip",
                                        "0".repeat(64), 0.8, 0.5));
                            };
                    value = codec.encode(e);
                    key = ghost;
                    name = toCommands ? "unknown job command" : "unknown job report";
                    if (toCommands) {
                        ghostCommands++;
                    } else {
                        ghostReports++;
                        ghostReportJobs.add(ghost);
                    }
                }
                sentByCategory.merge(name, 1, Integer::sum);
                sent.add(producer.send(new ProducerRecord<>(topic, key, value)));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
            // Over 1 MiB: Kafka's own limit (message.max.bytes, max.request.size) refuses it before any service sees it.
            byte[] huge = bytes("{\"type\":\"CancelJob\",\"pad\":\"" + "a".repeat(EventCodec.MAX_BYTES) + "\"}");
            for (String topic : List.of(topics.commands(), topics.reports())) {
                try {
                    producer.send(new ProducerRecord<>(topic, "huge", huge)).get();
                    throw new AssertionError("a record of " + huge.length + " bytes reached " + topic);
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(RecordTooLargeException.class);
                }
            }
        }
        System.out.println("poison sent, by category: " + sentByCategory);

        Map<String, Integer> dlt = new TreeMap<>();
        List<Event> reports = new ArrayList<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        int expectedTotal = expectedDlt.values().stream().mapToInt(Integer::intValue).sum();
        int ghostFailures = 0;
        try (KafkaConsumer<String, byte[]> consumer = History.consumer(pipeline.bootstrapServers(), "poison-check")) {
            consumer.subscribe(List.of(Topics.dlt(topics.commands()), Topics.dlt(topics.reports()), topics.reports()));
            while (dlt.values().stream().mapToInt(Integer::intValue).sum() < expectedTotal
                    || ghostFailures < ghostCommands) {
                assertThat(System.nanoTime()).as("dead letters %s of %s, JobFailed for unknown jobs %d of %d within %s;"
                        + " logs in %s", dlt, expectedDlt, ghostFailures, ghostCommands, TIMEOUT, pipeline.logDir())
                        .isLessThan(deadline);
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.topic().endsWith(".DLT")) {
                        String source = header(r, DeadLetter.SOURCE_TOPIC);
                        assertThat(source + ".DLT").isEqualTo(r.topic());
                        assertThat(header(r, DeadLetter.SOURCE_OFFSET)).matches("[0-9]+");
                        assertThat(header(r, DeadLetter.DETAIL)).isNotBlank();
                        dlt.merge(source + " " + header(r, DeadLetter.REASON), 1, Integer::sum);
                    } else if (codec.decode(r.value()) instanceof Decoded.Accepted a) {
                        reports.add(a.event());
                        if (a.event().payload() instanceof JobFailed f && a.event().jobId().startsWith("ghost-")
                                && !f.worker().equals("worker-x")) {
                            assertThat(f.retryable()).as("a command for an unknown job: %s", f).isFalse();
                            ghostFailures++;
                        }
                    }
                }
            }
            // A little longer: nothing more than expected arrives.
            for (int i = 0; i < 4; i++) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.topic().endsWith(".DLT")) {
                        dlt.merge(header(r, DeadLetter.SOURCE_TOPIC) + " " + header(r, DeadLetter.REASON), 1,
                                Integer::sum);
                    }
                }
            }
        }
        System.out.printf("dead letters by topic and reason: %s%nJobFailed for %d commands of unknown jobs; %d reports"
                + " of unknown jobs%n", dlt, ghostFailures, ghostReports);
        assertThat(dlt).as("dead letters by source topic and reason").isEqualTo(expectedDlt);
        assertThat(ghostFailures).as("one JobFailed per command of an unknown job").isEqualTo(ghostCommands);

        // The scheduler ignored the reports of unknown jobs: no command was sent for any of them.
        List<Event> commands = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = History.consumer(pipeline.bootstrapServers(),
                "poison-commands")) {
            consumer.subscribe(List.of(topics.commands()));
            for (int empty = 0; empty < 6;) {
                var records = consumer.poll(Duration.ofMillis(500));
                empty = records.isEmpty() ? empty + 1 : 0;
                for (ConsumerRecord<String, byte[]> r : records) {
                    if (codec.decode(r.value()) instanceof Decoded.Accepted a) {
                        commands.add(a.event());
                    }
                }
            }
        }
        assertThat(commands).as("commands the scheduler sent for the jobs of reports it never asked for")
                .noneMatch(c -> ghostReportJobs.contains(c.jobId()));

        // Both services still work: a job submitted now publishes.
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/jobs"))
                .POST(HttpRequest.BodyPublishers.ofString(TestRecipes.lenet5("after-poison", 0.5, 1, 50))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("submit after the poison: %s", r.body()).isEqualTo(201);
        try (KafkaConsumer<String, byte[]> consumer = History.consumer(pipeline.bootstrapServers(), "poison-after")) {
            consumer.subscribe(List.of(topics.reports()));
            boolean published = false;
            while (!published) {
                assertThat(System.nanoTime()).as("after-poison published; logs in %s", pipeline.logDir())
                        .isLessThan(deadline + Duration.ofMinutes(3).toNanos());
                for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
                    published |= rec.key() != null && rec.key().equals("after-poison")
                            && codec.decode(rec.value()) instanceof Decoded.Accepted a
                            && a.event().payload() instanceof ModelPublished;
                }
            }
        }
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

}
