package dev.shears.deploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.RollBack;
import dev.shears.common.events.StepCompleted;
import dev.shears.prune.PrunableParameter;
import dev.shears.prune.Pruning;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.model.Models;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * A job's complete event history as Kafka holds it, and the audit of the contract of {@code common/EVENTS.md} on it:
 * command keys that never go down, every step applied at most once and completed in order, one publication at the
 * final sparsity with a digest that matches its file, and on disk exactly one version directory for it, whose manifest
 * gives that digest (a publication that a crash kept out of the events still leaves its directory). The pipeline and
 * fault-injection tests share it.
 *
 * <p>Records are told apart by {@code eventId}: a record delivered or re-sent twice with the same id is one event; a
 * second application of a command would be a second event with an id of its own, and is counted as duplicated.
 */
public final class History {
    private static final EventCodec CODEC = new EventCodec();

    private History() {}

    /** A consumer that reads from the beginning, committed transactions only, never committing itself. */
    public static KafkaConsumer<String, byte[]> consumer(String bootstrapServers, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** Every record of {@code topic}, until 3 s pass without one; each must decode. */
    public static List<Event> readAll(String bootstrapServers, String topic) {
        List<Event> events = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrapServers, "history-" + topic + "-"
                + System.nanoTime())) {
            consumer.subscribe(List.of(topic));
            int empty = 0;
            while (empty < 6) {
                var records = consumer.poll(Duration.ofMillis(500));
                empty = records.isEmpty() ? empty + 1 : 0;
                records.forEach(r -> events.add(accepted(r)));
            }
        }
        return events;
    }

    /** The event in {@code record}; fails the test when it does not decode. */
    public static Event accepted(ConsumerRecord<String, byte[]> record) {
        Decoded d = CODEC.decode(record.value());
        assertThat(d).as("record %s-%d@%d decodes", record.topic(), record.partition(), record.offset())
                .isInstanceOf(Decoded.Accepted.class);
        return ((Decoded.Accepted) d).event();
    }

    public static List<Event> byJob(List<Event> events, String job) {
        return events.stream().filter(e -> e.jobId().equals(job)).toList();
    }

    /** How many distinct jobs have a {@code ModelPublished} among {@code reports}. */
    public static long published(List<Event> reports) {
        return reports.stream().filter(e -> e.payload() instanceof ModelPublished).map(Event::jobId).distinct().count();
    }

    /** Entries of LeNet-5's conv and dense weights: what the recipes of these tests prune. */
    public static long lenet5PrunableEntries() {
        MultiLayerNetwork net = Models.lenet5(7, new Sgd(0.1), 0);
        return Pruning.of(net).prunableWeights().stream().filter(PrunableParameter::isWeight)
                .mapToLong(p -> Arrays.stream(p.shape()).reduce(1, (a, b) -> a * b)).sum();
    }

    /**
     * The command key {@code (attempt, seq)} as one number, ordered as EVENTS.md orders keys; a {@code Finalize} or
     * {@code JobStarted} counts as attempt 1 here ({@link #audit} gives a Finalize the job's attempt at that point).
     */
    public static long key(Event command) {
        int attempt = command.payload() instanceof PruneStep p ? p.attempt()
                : command.payload() instanceof RollBack r ? r.attempt() : 1;
        return attempt * 1_000_000L + command.seq();
    }

    /**
     * What the history of one job shows, computed from its events, assuming nothing.
     *
     * @param job the job
     * @param events its commands and reports, progress excluded, counted once per eventId
     * @param keysGoingDown commands whose key is below an earlier command's
     * @param appliedTwice keys {@code attempt:seq} with more than one StepCompleted that applied them
     * @param inconsistent keys whose answers describe more than one checkpoint
     * @param completedSeqs the seqs completed, in the order of their first completion
     * @param lost the steps 0..steps never completed, plus one when nothing was published or no version of it is on
     *     disk
     * @param duplicated second applications plus inconsistent keys plus publications beyond the first, counted in the
     *     events or on disk, whichever has more
     * @param publications the distinct publications
     * @param versionsOnDisk the version directories beside the first publication's ({@code <models>/<name>/}, not
     *     counting hidden ones such as an interrupted publication's {@code .tmp-} or the {@code latest} link), sorted
     */
    public record Audit(String job, int events, List<Event> keysGoingDown, List<String> appliedTwice,
            List<String> inconsistent, List<Long> completedSeqs, int lost, int duplicated,
            List<ModelPublished> publications, List<String> versionsOnDisk) {

        /** The model published, if exactly one was. */
        public ModelPublished publication() {
            assertThat(publications).as("%s: one publication", job).hasSize(1);
            return publications.get(0);
        }
    }

    /** The audit of {@code job}, whose schedule has {@code steps} pruning steps, over the whole history. */
    public static Audit audit(String job, List<Event> allCommands, List<Event> allReports, int steps) {
        List<Event> commands = distinct(byJob(allCommands, job));
        List<Event> reports = distinct(byJob(allReports, job));

        List<Event> down = new ArrayList<>();
        long lastKey = -1;
        int attempt = 1;
        for (Event c : commands) {
            if (c.payload() instanceof JobStarted || c.payload() instanceof PruneStep || c.payload() instanceof RollBack
                    || c.payload() instanceof Finalize) {
                // A Finalize carries no attempt: it is sent under the job's attempt at that point.
                long key = c.payload() instanceof Finalize ? attempt * 1_000_000L + c.seq() : key(c);
                if (key < lastKey) {
                    down.add(c);
                }
                lastKey = Math.max(lastKey, key);
                attempt = (int) Math.max(attempt, key / 1_000_000L);
            }
        }

        Map<String, List<StepCompleted>> byKey = new LinkedHashMap<>();
        for (Event r : reports) {
            if (r.payload() instanceof StepCompleted s) {
                byKey.computeIfAbsent(s.attempt() + ":" + s.seq(), k -> new ArrayList<>()).add(s);
            }
        }
        List<String> twice = new ArrayList<>();
        List<String> inconsistent = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        for (Map.Entry<String, List<StepCompleted>> e : byKey.entrySet()) {
            List<StepCompleted> answers = e.getValue();
            if (answers.stream().filter(s -> !s.redelivered()).count() > 1) {
                twice.add(e.getKey() + " " + answers);
            }
            if (answers.stream().map(s -> List.of(s.checkpointId(), s.accuracy(), s.loss(), s.achievedSparsity()))
                    .distinct().count() > 1) {
                inconsistent.add(e.getKey() + " " + answers);
            }
            if (!seqs.contains(answers.get(0).seq())) {
                seqs.add(answers.get(0).seq());
            }
        }
        List<ModelPublished> publications = reports.stream().filter(r -> r.payload() instanceof ModelPublished)
                .map(r -> (ModelPublished) r.payload()).distinct().toList();
        List<String> onDisk = publications.isEmpty() ? List.of()
                : versionsOnDisk(Path.of(publications.get(0).path()).toAbsolutePath().getParent().getParent());
        int lost = (int) LongStream.rangeClosed(0, steps).filter(s -> !seqs.contains(s)).count()
                + (publications.isEmpty() || onDisk.isEmpty() ? 1 : 0);
        int duplicated = twice.size() + inconsistent.size()
                + Math.max(0, Math.max(publications.size(), onDisk.size()) - 1);
        return new Audit(job, commands.size() + reports.size(), down, twice, inconsistent, seqs, lost, duplicated,
                publications, onDisk);
    }

    /** The names of the version directories in a publication's directory: not hidden, not links; sorted. */
    static List<String> versionsOnDisk(Path publicationDir) {
        if (!Files.isDirectory(publicationDir)) {
            return List.of();
        }
        try (var list = Files.list(publicationDir)) {
            return list.filter(d -> Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS))
                    .map(d -> d.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Asserts the contract on an audit: keys never down, each key applied once with one checkpoint, steps 0..steps
     * completed in order, one publication of exactly {@code expectedPruned} of {@code prunable} entries whose file
     * matches its digest, and on disk its version directory alone, with a manifest that gives the same version and
     * digest, {@code latest} pointing at it.
     */
    public static void assertExactlyOnce(Audit a, int steps, long prunable, long expectedPruned) throws IOException {
        assertThat(a.keysGoingDown()).as("%s: command keys never go down", a.job()).isEmpty();
        assertThat(a.appliedTwice()).as("%s: every key applied at most once", a.job()).isEmpty();
        assertThat(a.inconsistent()).as("%s: all answers for one key describe one checkpoint", a.job()).isEmpty();
        assertThat(a.completedSeqs()).as("%s: steps completed in order, each once", a.job())
                .containsExactly(LongStream.rangeClosed(0, steps).boxed().toArray(Long[]::new));
        ModelPublished model = a.publication();
        assertThat(Math.round(model.sparsity() * prunable)).as("%s: pruned entries", a.job()).isEqualTo(expectedPruned);
        Path file = Path.of(model.path());
        assertThat(Files.exists(file)).as("%s: %s exists", a.job(), file).isTrue();
        assertThat(Checkpoints.sha256(file)).as("%s: digest of %s", a.job(), file).isEqualTo(model.sha256());
        Path versionDir = file.toAbsolutePath().getParent();
        assertThat(a.versionsOnDisk()).as("%s: the version directories in %s", a.job(), versionDir.getParent())
                .containsExactly(model.version());
        JsonNode manifest = new ObjectMapper().readTree(versionDir.resolve("manifest.json").toFile());
        assertThat(manifest.path("version").asText()).as("%s: the manifest's version", a.job())
                .isEqualTo(model.version());
        assertThat(manifest.path("files").path("model.zip").asText())
                .as("%s: the manifest's digest of model.zip", a.job())
                .isEqualTo(model.sha256());
        assertThat(Files.readSymbolicLink(versionDir.resolveSibling("latest"))).as("%s: latest", a.job())
                .isEqualTo(Path.of(model.version()));
        assertThat(a.lost()).as("%s: lost", a.job()).isZero();
        assertThat(a.duplicated()).as("%s: duplicated", a.job()).isZero();
    }

    /** The first event of each eventId, in order: a record delivered or re-sent again is the same event. */
    public static List<Event> distinct(List<Event> events) {
        Set<String> seen = new HashSet<>();
        return events.stream().filter(e -> !(e.payload() instanceof JobProgress)).filter(e -> seen.add(e.eventId()))
                .toList();
    }

    /** One line per event, for a failure's message and the test log. */
    public static String brief(Event e) {
        if (e.payload() instanceof StepCompleted s) {
            return "StepCompleted " + s.attempt() + ":" + s.seq() + " " + s.worker()
                    + (s.redelivered() ? " (redelivered)" : "");
        }
        if (e.payload() instanceof JobResumed r) {
            return "JobResumed " + r.restoredSeq() + " by " + r.worker() + ", " + r.stepsRedone() + " redone";
        }
        return e.type() + " " + e.seq();
    }

    /** The last report of each job, for a timeout's message. */
    public static String summary(List<Event> reports) {
        Map<String, String> last = new HashMap<>();
        for (Event e : reports) {
            if (!(e.payload() instanceof JobProgress)) {
                last.put(e.jobId(), e.type() + " seq " + e.seq());
            }
        }
        return last.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining(", "));
    }
}
