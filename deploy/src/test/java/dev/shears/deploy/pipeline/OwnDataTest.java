package dev.shears.deploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.Event;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.deploy.launch.LocalPipeline;
import dev.shears.trainer.checkpoint.Checkpoints;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Data a user brings, through the whole pipeline (a broker, the scheduler and a worker, each its own process): an image
 * folder of PNG files and a CSV file, both written by {@code deploy/data/fashion-mnist-export.py} from the committed
 * subset into the worker's data root and named by the recipes, each trained, pruned and published.
 *
 * <p>Both test splits are relabelled, every example given the next class, so that the test accuracy is near 0 while the
 * validation accuracy, held out of the training files, passes the budget's floor of 0.4: a budget judged on the test
 * split would have stopped both jobs at their first step. The test accuracy is still reported, step by step and in
 * the published model's manifest, beside its input contract.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OwnDataTest {
    static final Path SCRIPT = Path.of("../deploy/data/fashion-mnist-export.py").toAbsolutePath().normalize();
    static final Path SUBSET = TestRecipes.DATA_ROOT.resolve(TestRecipes.SUBSET);
    static final Duration JOB_TIMEOUT = Duration.ofMinutes(6);
    static final double FLOOR = 0.4;

    @TempDir
    static Path dir;
    LocalPipeline pipeline;
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "python3 is not installed");
        Path data = Files.createDirectories(dir.resolve("data"));
        export("images", data.resolve("fmnist-png"));
        relabelImageFolders(data.resolve("fmnist-png/test"));
        export("csv", data.resolve("fmnist-csv"));
        relabelCsv(data.resolve("fmnist-csv/test.csv"));
        pipeline = LocalPipeline.start(dir.resolve("pipeline"), LocalPipeline.Options.defaults().withWorkers(1)
                .withDataRoots(List.of(data)));
    }

    @AfterAll
    void stop() {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    @ParameterizedTest(name = "{2} ({1})")
    @CsvSource({"own-png, lenet5, fmnist-png, NCHW, '[1,28,28]', 1, 0-t-shirt",
            "own-csv, lenet300100, fmnist-csv, NF, '[784]', 784, 0"})
    void aJobOnItIsPublishedWithItsValidationSplitDecidingTheBudget(String job, String model, String data,
            String layout, String shape, int normalised, String firstClass) throws Exception {
        JsonNode input = publish(job, model, data).path("input");

        assertThat(input.path("layout").asText()).isEqualTo(layout);
        assertThat(input.path("shape").toString()).isEqualTo(shape);
        assertThat(input.path("normalization").path("mean")).hasSize(normalised);
        assertThat(input.path("normalization").path("std")).hasSize(normalised);
        assertThat(input.path("classes").asInt()).isEqualTo(10);
        assertThat(input.path("classNames").get(0).asText()).isEqualTo(firstClass);
    }

    /**
     * Submits {@code model} on data set {@code data}, waits for its publication, checks that every step passed the
     * budget on validation accuracy while the relabelled test split scored near 0, and returns the model's manifest.
     */
    private JsonNode publish(String job, String model, String data) throws Exception {
        HttpResponse<String> submitted = http.send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/jobs"))
                .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString(recipe(job, model,
                        data)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(submitted.statusCode()).as("submit %s: %s", job, submitted.body()).isEqualTo(201);
        JsonNode status = awaitEnd(job);
        assertThat(status.path("state").asText()).as("%s: %s; logs in %s", job, status, pipeline.logDir())
                .isEqualTo("published");

        List<Event> reports = History.byJob(History.readAll(pipeline.bootstrapServers(), Topics.defaults().reports()),
                job);
        List<StepCompleted> steps = reports.stream().map(Event::payload).filter(StepCompleted.class::isInstance)
                .map(StepCompleted.class::cast).toList();
        assertThat(steps).extracting(StepCompleted::seq).containsExactly(0L, 1L, 2L);
        for (StepCompleted s : steps) {
            System.out.printf("%s seq %d: validation accuracy %.4f, test accuracy %.4f%n", job, s.seq(), s.accuracy(),
                    s.testAccuracy());
            assertThat(s.accuracy()).as("%s seq %d validation accuracy", job, s.seq()).isGreaterThan(FLOOR);
            assertThat(s.testAccuracy()).as("%s seq %d accuracy on the relabelled test split", job, s.seq())
                    .isLessThan(0.2);
        }
        List<String> decisions = new ArrayList<>();
        status.path("results").forEach(r -> decisions.add(r.path("decision").asText()));
        assertThat(decisions).containsExactly("dense", "ok", "ok");
        JsonNode last = status.path("results").get(2);
        assertThat(last.path("accuracy").asDouble()).isEqualTo(steps.get(2).accuracy());
        assertThat(last.path("testAccuracy").asDouble()).isEqualTo(steps.get(2).testAccuracy());

        ModelPublished published = reports.stream().map(Event::payload).filter(ModelPublished.class::isInstance)
                .map(ModelPublished.class::cast).findFirst().orElseThrow();
        assertThat(published.accuracy()).as("the published model's test accuracy")
                .isEqualTo(steps.get(2).testAccuracy());
        Path modelFile = Path.of(published.path());
        assertThat(Checkpoints.sha256(modelFile)).isEqualTo(published.sha256());
        JsonNode manifest = json.readTree(modelFile.resolveSibling("manifest.json").toFile());
        assertThat(manifest.path("accuracy").path("validation").asDouble()).isEqualTo(steps.get(2).accuracy());
        assertThat(manifest.path("accuracy").path("test").asDouble()).isEqualTo(steps.get(2).testAccuracy());
        assertThat(manifest.path("input").path("dataset").asText()).isEqualTo(data);
        return manifest;
    }

    private JsonNode awaitEnd(String job) throws Exception {
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (true) {
            JsonNode status = json.readTree(http.send(HttpRequest.newBuilder(pipeline.schedulerUrl()
                    .resolve("/jobs/" + job)).build(), HttpResponse.BodyHandlers.ofString()).body());
            String state = status.path("state").asText();
            if (state.equals("published") || state.equals("failed") || state.equals("cancelled")) {
                return status;
            }
            assertThat(System.nanoTime()).as("%s ended within %s: %s; logs in %s", job, JOB_TIMEOUT, status,
                    pipeline.logDir()).isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    /**
     * Four dense epochs, two steps to 50 % global L1 of 30 fine-tune iterations each, the budget a floor of
     * {@link #FLOOR} that stops the job.
     */
    static String recipe(String job, String model, String data) {
        return TestRecipes.recipe(job, model, data, 4, 0.5, 2, 30, FLOOR);
    }

    static void export(String format, Path out) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/usr/bin/python3", SCRIPT.toString(), format, out.toString(), "--source",
                SUBSET.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("%s export: %s", format, output).isZero();
    }

    /** Moves each test class folder's images to the next class's folder. */
    static void relabelImageFolders(Path test) throws IOException {
        List<Path> folders;
        try (Stream<Path> list = Files.list(test)) {
            folders = list.sorted().toList();
        }
        for (int i = 0; i < folders.size(); i++) {
            Files.move(folders.get(i), test.resolve("moving-" + i));
        }
        for (int i = 0; i < folders.size(); i++) {
            Files.move(test.resolve("moving-" + i), folders.get((i + 1) % folders.size()));
        }
    }

    /** Gives each line of a CSV whose first column is the label the next of ten classes. */
    static void relabelCsv(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        List<String> out = new ArrayList<>(List.of(lines.get(0)));
        for (String line : lines.subList(1, lines.size())) {
            int comma = line.indexOf(',');
            out.add((Integer.parseInt(line.substring(0, comma)) + 1) % 10 + line.substring(comma));
        }
        Files.write(csv, out);
    }
}
