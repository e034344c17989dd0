package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shears.common.events.CancelJob;
import dev.shears.common.events.Event;
import dev.shears.common.events.Topics;
import dev.shears.scheduler.cli.CancelCommand;
import dev.shears.scheduler.cli.JobsCommand;
import dev.shears.scheduler.cli.SchedulerCommand;
import dev.shears.scheduler.cli.StatusCommand;
import dev.shears.scheduler.cli.SubmitCommand;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command-line tools against a real scheduler on a real broker. */
@DisplayName("Scheduler command line")
class SchedulerCliTest extends BrokerTestBase {
    static SchedulerService scheduler;
    static FakeWorker worker;
    static final Topics TOPICS = new Topics("cli");

    @TempDir
    Path dir;
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    @BeforeAll
    static void start() {
        scheduler = SchedulerService.start(SchedulerConfig.of(kafka.bootstrapServers()).withHttp("127.0.0.1", 0)
                .withTopics(TOPICS).withPartitions(2).withTransactionalId("shears-scheduler-cli"));
        worker = new FakeWorker(kafka.bootstrapServers(), TOPICS, false);
    }

    @AfterAll
    static void stop() throws Exception {
        if (worker != null) {
            worker.close();
        }
        if (scheduler != null) {
            scheduler.close();
        }
    }

    int run(Object command, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--scheduler";
        all[1] = scheduler.uri().toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return new CommandLine(command).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(all);
    }

    Path recipeFile(String job, int steps) throws Exception {
        return Files.writeString(dir.resolve(job + ".yaml"), recipe(job, steps));
    }

    @Test
    @DisplayName("submit --watch follows a job to publication and exits 0; jobs and status show it")
    void submitWatchJobsStatus() throws Exception {
        assertThat(run(new SubmitCommand(), "--watch", "--interval", "100", recipeFile("cli-one", 2).toString()))
                .as(err.toString()).isZero();
        assertThat(out.toString()).contains("submitted cli-one (2 steps)").contains("published cli-one")
                .contains("sha256    " + "0".repeat(64)).contains("/models/cli-one.zip");

        out.getBuffer().setLength(0);
        assertThat(run(new JobsCommand())).isZero();
        assertThat(out.toString()).contains("JOB").containsPattern("cli-one\\s+published\\s+2/2\\s+0\\.5000");

        out.getBuffer().setLength(0);
        assertThat(run(new StatusCommand(), "cli-one")).isZero();
        assertThat(out.toString()).contains("SEQ").contains("VAL ACC  TEST ACC")
                .containsPattern("\\s0\\s+1\\s+0\\.0000\\s+0\\.0000\\s+0\\.9000\\s+0\\.9000\\s+dense")
                .containsPattern("\\s2\\s+1\\s+0\\.5000\\s+0\\.5000\\s+0\\.9000\\s+0\\.9000\\s+ok");
    }

    @Test
    @DisplayName("cancel stops a running job with a CancelJob; status --watch then exits nonzero")
    void cancel() throws Exception {
        worker.holdAbove.set(0);
        try {
            assertThat(run(new SubmitCommand(), recipeFile("cli-two", 3).toString())).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> worker.held.stream()
                    .anyMatch(e -> e.jobId().equals("cli-two")));
            assertThat(run(new CancelCommand(), "cli-two")).as(err.toString()).isZero();
            assertThat(out.toString()).contains("cancelled cli-two at step 0/3");
            await().atMost(Duration.ofSeconds(30)).until(() -> worker.received.stream()
                    .anyMatch(e -> e.jobId().equals("cli-two") && e.payload() instanceof CancelJob));
            Event cancel = worker.received.stream().filter(e -> e.payload() instanceof CancelJob).findFirst()
                    .orElseThrow();
            assertThat(cancel.seq()).as("the last command's seq").isEqualTo(1);
            assertThat(run(new StatusCommand(), "--watch", "cli-two")).isNotZero();
            assertThat(run(new CancelCommand(), "cli-two")).as("already cancelled").isNotZero();
            assertThat(err.toString()).contains("409").contains("already cancelled");
        } finally {
            worker.holdAbove.set(Long.MAX_VALUE);
        }
    }

    @Test
    @DisplayName("a refused recipe prints each problem and exits nonzero")
    void refusedRecipe() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "job: Bad Name\nmodel: lenet5\nunknownKey: 1\n");
        assertThat(run(new SubmitCommand(), bad.toString())).isNotZero();
        assertThat(err.toString()).contains("HTTP 400").contains("  job: ").contains("unknownKey");
    }

    @Test
    @DisplayName("the scheduler command prints its ready line, serves, and stops on SIGTERM")
    void schedulerProcess() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                SchedulerCommand.class.getName(), "--bootstrap", kafka.bootstrapServers(), "--http-port", "0",
                "--topic-prefix", "proc", "--partitions", "1", "--transactional-id", "shears-scheduler-proc")
                .redirectError(dir.resolve("stderr.txt").toFile()).start();
        try {
            BufferedReader lines = new BufferedReader(
                    new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String ready = CompletableFuture.supplyAsync(() -> {
                try {
                    return lines.readLine();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(60, TimeUnit.SECONDS);
            assertThat(ready).as(Files.readString(dir.resolve("stderr.txt"))).startsWith(SchedulerCommand.READY);
            URI uri = URI.create(ready.substring(SchedulerCommand.READY.length()).trim());
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri.resolve("/health"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            p.destroy();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("stopped after SIGTERM").isTrue();
            assertThat(Files.readString(dir.resolve("stderr.txt"))).doesNotContain("ERROR");
        } finally {
            p.destroyForcibly();
        }
    }
}
