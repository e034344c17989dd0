package dev.shears.deploy.pipeline;

import dev.shears.deploy.launch.LocalPipeline;
import java.nio.file.Path;
import java.util.List;

/** The recipes the pipeline tests submit: LeNet-5 on the committed Fashion-MNIST subset, small enough for CI. */
public final class TestRecipes {
    /** The 2,000 + 500 image subset committed with the trainer's tests, by its name under {@link #DATA_ROOT}. */
    public static final String SUBSET = "fashion-mnist-subset";
    /** The data root the workers find the subset under: the trainer's test resources. */
    public static final Path DATA_ROOT = Path.of("../trainer/src/test/resources").toAbsolutePath().normalize();

    private TestRecipes() {}

    /** {@link LocalPipeline.Options#defaults()} whose workers find the subset under {@link #DATA_ROOT}. */
    public static LocalPipeline.Options pipeline() {
        return LocalPipeline.Options.defaults().withDataRoots(List.of(DATA_ROOT));
    }

    /**
     * One dense epoch, then a cubic schedule to {@code finalSparsity} in {@code steps} steps of global L1 over the
     * convolution and dense weights, {@code iterationsPerStep} fine-tune iterations each, no accuracy bound, published
     * under the job's name.
     */
    public static String lenet5(String job, double finalSparsity, int steps, int iterationsPerStep) {
        return recipe(job, "lenet5", SUBSET, 1, finalSparsity, steps, iterationsPerStep, 0);
    }

    /**
     * {@code model} on data set {@code data}: {@code denseEpochs} dense epochs (Nesterov, batch 64, seed 7), then a
     * cubic schedule to {@code finalSparsity} in {@code steps} steps of global L1 over every convolution and dense
     * weight, {@code iterationsPerStep} fine-tune iterations each, the budget a floor of {@code minAccuracy} that stops
     * the job, the default validation split, published under the job's name.
     */
    public static String recipe(String job, String model, String data, int denseEpochs, double finalSparsity,
            int steps, int iterationsPerStep, double minAccuracy) {
        return """
                job: %s
                model: %s
                data: %s
                training:
                  updater: nesterovs
                  learningRate: 0.01
                  momentum: 0.9
                  batchSize: 64
                  seed: 7
                  denseEpochs: %d
                pruning:
                  method: l1_unstructured
                  scope: global
                schedule:
                  kind: polynomial
                  initialSparsity: 0.0
                  finalSparsity: %s
                  steps: %d
                  power: 3
                fineTune:
                  iterationsPerStep: %d
                accuracyBudget:
                  minAccuracy: %s
                  policy: stop
                checkpoints:
                  keepLast: 2
                publish:
                  name: %s
                """.formatted(job, model, data, denseEpochs, finalSparsity, steps, iterationsPerStep, minAccuracy,
                job);
    }
}
