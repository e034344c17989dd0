package dev.shears.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code --data}, {@code --dense-epochs}, {@code --steps} and {@code --iterations}: the LeNet-5 jobs a benchmark has
 * real trainer workers train ({@link BenchRecipes#lenet5}), and the data root those workers need for them. A picocli
 * mixin of the benchmarks that run a local pipeline; each gives its own defaults as the instance's initial values,
 * {@code @Mixin TrainedJobs jobs = new TrainedJobs(BenchModels.FASHION_MNIST, 1, 3, 100);}.
 */
final class TrainedJobs {
    @Option(names = "--data", paramLabel = "DIR", description = "the jobs' Fashion-MNIST IDX files, a directory; its"
            + " parent is the workers' data root (default ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--dense-epochs", description = "dense epochs before pruning, per job (default ${DEFAULT-VALUE})")
    int denseEpochs;

    @Option(names = "--steps", description = "pruning steps per job (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--iterations", description = "fine-tuning iterations per step (default ${DEFAULT-VALUE})")
    int iterations;

    /** These values unless given. */
    TrainedJobs(Path data, int denseEpochs, int steps, int iterations) {
        this.data = data;
        this.denseEpochs = denseEpochs;
        this.steps = steps;
        this.iterations = iterations;
    }

    /** The recipe of the job {@code job}: LeNet-5 on {@code --data}, with these epochs, steps and iterations. */
    String recipe(String job) {
        return BenchRecipes.lenet5(job, dataDir().getFileName().toString(), denseEpochs, steps, iterations);
    }

    /** The workers' data root, under which the recipes name {@code --data} by its last part. */
    Path dataRoot() {
        return dataDir().getParent();
    }

    /** {@code dense_epochs=... steps=... iterations=...}, for a benchmark's result line. */
    String describe() {
        return String.format(Locale.ROOT, "dense_epochs=%d steps=%d iterations=%d", denseEpochs, steps, iterations);
    }

    private Path dataDir() {
        Path dir = data.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir) || dir.getParent() == null) {
            throw new IllegalArgumentException("--data " + data + " is not a directory (fix: a directory of"
                    + " Fashion-MNIST IDX files, e.g. " + BenchModels.FASHION_MNIST + " or, from the checkout, "
                    + BenchModels.FASHION_MNIST_SUBSET + ")");
        }
        return dir;
    }
}
