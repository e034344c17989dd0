package dev.shears.deploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.Event;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.deploy.launch.ChildProcess;
import dev.shears.deploy.launch.LocalPipeline;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline as it runs for real: a KRaft broker, the scheduler and two workers, each its own JVM. Three jobs
 * run at once to publication on the committed data subset; one worker is killed with SIGKILL in the middle of a
 * pruning step; the test then reads the complete event history from Kafka and checks the contract of
 * {@code common/EVENTS.md}: every step of every job applied exactly once and in order, keys that only grow, the final
 * sparsity exact, every model published with a digest that matches its file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineTest {
    static final List<String> JOBS = List.of("pipe-a", "pipe-b", "pipe-c");
    static final int STEPS = 3;
    static final double FINAL_SPARSITY = 0.8;
    static final Duration JOB_TIMEOUT = Duration.ofMinutes(8);

    @TempDir
    static Path dir;
    LocalPipeline pipeline;
    final Topics topics = Topics.defaults();
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    void start() {
        pipeline = LocalPipeline.start(dir, TestRecipes.pipeline().withWorkers(2).withSessionTimeoutMs(6000));
    }

    @AfterAll
    void stop() {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    @Test
    void threeJobsSurviveAWorkerKilledMidStepAndEachStepIsAppliedExactlyOnce() throws Exception {
        // 300 fine-tune iterations per step: long enough to catch a worker in the middle of one.
        for (String job : JOBS) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/jobs"))
                    .header("Content-Type", "application/yaml")
                    .POST(HttpRequest.BodyPublishers.ofString(TestRecipes.lenet5(job, FINAL_SPARSITY, STEPS, 300)))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("submit %s: %s", job, r.body()).isEqualTo(201);
        }

        List<Event> reports = new ArrayList<>();
        String killed = null;
        String killedJob = null;
        // The workers each job has reported from: a job is killed only while it has run on one worker, so that the
        // survivor must restore another worker's checkpoint (one that moved between steps in a rebalance may come
        // back to a worker that still knows its checkpoint, and then resumes without a JobResumed).
        Map<String, Set<String>> ranOn = new HashMap<>();
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        try (KafkaConsumer<String, byte[]> consumer = History.consumer(pipeline.bootstrapServers(),
                "pipeline-test-live")) {
            consumer.subscribe(List.of(topics.reports()));
            while (History.published(reports) < JOBS.size()) {
                assertThat(System.nanoTime()).as("all jobs published within %s; reports so far: %s; logs in %s",
                        JOB_TIMEOUT, History.summary(reports), pipeline.logDir()).isLessThan(deadline);
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    Event e = History.accepted(record);
                    reports.add(e);
                    if (e.payload() instanceof JobProgress p) {
                        ranOn.computeIfAbsent(e.jobId(), j -> new HashSet<>()).add(p.worker());
                    } else if (e.payload() instanceof StepCompleted c) {
                        ranOn.computeIfAbsent(e.jobId(), j -> new HashSet<>()).add(c.worker());
                    }
                    // The kill: a worker in the middle of a pruning step (seq >= 1), a fifth to four fifths through it.
                    if (killed == null && e.payload() instanceof JobProgress p && p.seq() >= 1
                            && p.fraction() > 0.2 && p.fraction() < 0.8
                            && ranOn.get(e.jobId()).equals(Set.of(p.worker()))) {
                        ChildProcess victim = pipeline.worker(p.worker());
                        victim.kill();
                        System.out.printf("killed %s (SIGKILL) during %s seq %d at %.0f %%%n", p.worker(), e.jobId(),
                                p.seq(), 100 * p.fraction());
                        killed = p.worker();
                        killedJob = e.jobId();
                    }
                }
            }
        }
        assertThat(killed).as("a worker was caught mid-step and killed").isNotNull();

        List<Event> commands = History.readAll(pipeline.bootstrapServers(), topics.commands());
        List<Event> allReports = History.readAll(pipeline.bootstrapServers(), topics.reports());
        long prunable = History.lenet5PrunableEntries();
        long expectedPruned = Math.round(FINAL_SPARSITY * prunable);
        for (String job : JOBS) {
            System.out
                    .println(job + ": " + History.distinct(History.byJob(allReports, job)).stream().map(History::brief)
                            .collect(Collectors.joining(", ")));
            History.Audit audit = History.audit(job, commands, allReports, STEPS);
            History.assertExactlyOnce(audit, STEPS, prunable, expectedPruned);
            checkSchedulerAgrees(job, audit.publication());
        }

        // The killed worker's job was resumed by the survivor, from a checkpoint, and the resume was reported.
        String survivor = pipeline.workers().stream().filter(ChildProcess::isAlive).map(ChildProcess::name)
                .findFirst().orElseThrow();
        String job = killedJob;
        assertThat(History.byJob(allReports, job)).as("JobResumed for %s after %s was killed", job, killed)
                .anySatisfy(e -> {
                    assertThat(e.payload()).isInstanceOf(JobResumed.class);
                    assertThat(((JobResumed) e.payload()).worker()).isEqualTo(survivor);
                });
    }

    /** The scheduler's view of a published job names the digest the worker reported. */
    private void checkSchedulerAgrees(String job, ModelPublished model) throws Exception {
        JsonNode status = json.readTree(http.send(HttpRequest.newBuilder(
                pipeline.schedulerUrl().resolve("/jobs/" + job)).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(status.path("state").asText()).as("%s: scheduler state %s", job, status).isEqualTo("published");
        assertThat(status.path("publication").path("sha256").asText()).isEqualTo(model.sha256());
    }
}
