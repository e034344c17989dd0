package dev.shears.deploy.cli;

import dev.shears.common.recipe.DataSpec;
import dev.shears.common.recipe.FineTune;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.recipe.ValidationSplit;
import dev.shears.common.schedule.Schedule;
import dev.shears.deploy.launch.ChildProcess;
import dev.shears.deploy.launch.LocalPipeline;
import dev.shears.deploy.launch.LocalPrometheus;
import dev.shears.scheduler.cli.SubmitCommand;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shears demo}: the whole pipeline on this machine, start to finish. Starts a Kafka broker, the scheduler, two
 * workers and (when installed) Prometheus with Shears' alert rules; submits LeNet-5 on Fashion-MNIST pruned gradually
 * to 90 %; follows it step by step; ends with the per-step table, the published model and where the metrics are.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The whole pipeline on this machine: Kafka (KRaft), the scheduler, 2 trainer workers and "
                + "Prometheus; runs LeNet-5 on Fashion-MNIST pruned gradually to 90 %% and publishes the model.",
                "Its directory is emptied first when an earlier demo made it; any other directory must be new or empty."})
public final class DemoCommand implements Callable<Integer> {
    static final String RECIPE = "trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml";
    /** The committed subset's data root and its name there. */
    static final String SUBSET_ROOT = "trainer/src/test/resources";
    static final String SUBSET = "fashion-mnist-subset";
    static final String MARKER = ".shears-demo";

    @Option(names = "--quick", description = "The committed 2,000-image subset and 100 fine-tune iterations per step:"
            + " about 1.5 minutes instead of about 5 (accuracy is then that of a toy).")
    boolean quick;

    @Option(names = "--recipe", paramLabel = "FILE", description = "Another recipe (default: " + RECIPE + ").")
    Path recipe;

    @Mixin
    LocalPipelineOptions local = new LocalPipelineOptions("runs/demo");

    @Option(names = "--keep", description = "Keep everything running after the model is published, until Ctrl-C,"
            + " to look at the metrics and Prometheus.")
    boolean keep;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        Path home = Path.of(System.getProperty("shears.home", System.getenv().getOrDefault("SHEARS_HOME", ".")));
        Path recipeFile = recipe != null ? recipe : home.resolve(RECIPE);
        Recipe r;
        try {
            r = Recipe.load(recipeFile);
        } catch (IOException | RuntimeException e) {
            System.err.println("shears demo: cannot use recipe " + recipeFile + ": " + e.getMessage());
            return 2;
        }
        if (quick) {
            DataSpec d = r.data();
            // the subset's 2,000 training images: the default tenth of them for validation
            r = new Recipe(r.job(), r.model(),
                    new DataSpec(SUBSET, ValidationSplit.DEFAULT, d.shape(), d.normalization(),
                            d.augmentation()),
                    r.training(), r.pruning(), r.schedule(),
                    new FineTune(Math.min(100, r.fineTune().iterationsPerStep())), r.accuracyBudget(), r.checkpoints(),
                    r.publish());
        }
        Path dir = local.dir;
        int workers = local.workers;
        if (!prepare(dir)) {
            return 2;
        }
        Path submitted = dir.resolve("recipe.yaml");
        Files.writeString(submitted, r.toYaml());

        out.printf("Shears demo: %s on %s, %s %s to %.0f %% in %d steps%n", r.model(), r.data(),
                r.pruning().method(), r.pruning().scope(), 100 * r.schedule().finalSparsity(),
                Schedule.of(r.schedule()).steps());
        out.printf("starting Kafka, the scheduler and %d worker%s in %s ...%n", workers, workers == 1 ? "" : "s",
                dir.toAbsolutePath());
        long t0 = System.nanoTime();
        LocalPipeline pipeline;
        try {
            pipeline = LocalPipeline.start(dir, options(home));
        } catch (IllegalStateException e) {
            System.err.println("shears demo: " + e.getMessage());
            return 1;
        }
        LocalPrometheus prometheus = null;
        try {
            prometheus = startPrometheus(pipeline, home);
            out.printf("ready in %.0f s%n", (System.nanoTime() - t0) / 1e9);
            UpCommand.describe(pipeline, out);
            if (prometheus != null) {
                out.printf("%-10s %s   (alerts %s/alerts)%n", "prometheus", prometheus.url(), prometheus.url());
            }
            out.println();
            out.flush();

            int code = new CommandLine(new SubmitCommand()).execute(submitted.toString(), "--scheduler",
                    pipeline.schedulerUrl().toString(), "--watch");
            out.printf("%nfinished in %.0f s%n", (System.nanoTime() - t0) / 1e9);
            where(pipeline, prometheus, out);
            if (keep) {
                out.println("Everything keeps running; Ctrl-C stops it.");
                out.flush();
                waitForCtrlC(pipeline, prometheus);
            }
            return code;
        } finally {
            if (!keep) {
                if (prometheus != null) {
                    prometheus.close();
                }
                pipeline.close();
            }
        }
    }

    /** The pipeline's options; the quick demo's workers also find the committed subset by its name. */
    LocalPipeline.Options options(Path home) {
        LocalPipeline.Options options = local.pipeline();
        if (!quick) {
            return options;
        }
        List<Path> roots = new ArrayList<>(options.dataRoots());
        roots.add(home.resolve(SUBSET_ROOT));
        return options.withDataRoots(roots);
    }

    /** Makes {@code dir} ready: new, or emptied when an earlier demo made it; anything else is left alone. */
    private static boolean prepare(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            try (Stream<Path> entries = Files.list(dir)) {
                if (entries.findAny().isPresent() && !Files.exists(dir.resolve(MARKER))) {
                    System.err.println("shears demo: " + dir + " is not empty and was not made by a demo; not touching"
                            + " it (fix: --dir a new or empty directory)");
                    return false;
                }
            }
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    if (!p.equals(dir)) {
                        Files.delete(p);
                    }
                }
            }
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(MARKER), "made by ./shears demo; emptied by the next one\n");
        return true;
    }

    private static LocalPrometheus startPrometheus(LocalPipeline pipeline, Path home) throws IOException {
        if (LocalPrometheus.binary().isEmpty()) {
            System.out.println("(Prometheus is not installed, so none is started: apt-get install -y prometheus)");
            return null;
        }
        List<String> workers = new ArrayList<>();
        for (ChildProcess w : pipeline.workers()) {
            URI m = pipeline.workerMetrics(w);
            workers.add(m.getHost() + ":" + m.getPort());
        }
        URI s = pipeline.schedulerUrl();
        List<Path> rules = new ArrayList<>();
        Path rulesDir = home.resolve("dashboards/prometheus/rules");
        if (Files.isDirectory(rulesDir)) {
            try (Stream<Path> files = Files.list(rulesDir)) {
                files.filter(f -> f.toString().endsWith(".yml")).sorted().forEach(rules::add);
            }
        }
        return LocalPrometheus.start(pipeline.logDir().resolveSibling("prometheus"), List.of(
                new LocalPrometheus.ScrapeJob("shears-scheduler", List.of(s.getHost() + ":" + s.getPort())),
                new LocalPrometheus.ScrapeJob("shears-worker", workers)), rules, Duration.ofSeconds(5));
    }

    private static void where(LocalPipeline pipeline, LocalPrometheus prometheus, PrintStream out) {
        out.println("metrics:");
        out.printf("  scheduler   %s/metrics%n", pipeline.schedulerUrl());
        for (ChildProcess w : pipeline.workers()) {
            out.printf("  %-11s %s%n", w.name(), pipeline.workerMetrics(w));
        }
        if (prometheus != null) {
            out.printf(
                    "  prometheus  %s/graph?g0.expr=shears_scheduler_job_sparsity_achieved   (rules: dashboards/prometheus/rules)%n",
                    prometheus.url());
        }
        out.println(
                "  grafana     dashboards/grafana (docker-compose -f deploy/docker-compose.yml up: http://127.0.0.1:3000)");
        out.printf("logs: %s%n", pipeline.logDir());
        out.flush();
    }

    private static void waitForCtrlC(LocalPipeline pipeline, LocalPrometheus prometheus) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (prometheus != null) {
                prometheus.close();
            }
            pipeline.close();
            stopped.countDown();
        }, "shears-demo-stop"));
        stopped.await();
    }
}
