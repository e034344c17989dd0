package dev.shears.deploy.pipeline;

import java.nio.file.Path;

/** The recipes the pipeline tests submit: LeNet-5 on the committed Fashion-MNIST subset, small enough for CI. */
public final class TestRecipes {
    /** The 2,000 + 500 image subset committed with the trainer's tests. */
    public static final Path SUBSET =
            Path.of("../trainer/src/test/resources/fashion-mnist-subset").toAbsolutePath().normalize();

    private TestRecipes() {
    }

    /**
     * One dense epoch, then a cubic schedule to {@code finalSparsity} in {@code steps} steps of global L1 over the
     * convolution and dense weights, {@code iterationsPerStep} fine-tune iterations each, no accuracy bound, published
     * under the job's name.
     */
    public static String lenet5(String job, double finalSparsity, int steps, int iterationsPerStep) {
        return """
                job: %s
                model: lenet5
                data: %s
                training:
                  updater: nesterovs
                  learningRate: 0.01
                  momentum: 0.9
                  batchSize: 64
                  seed: 7
                  denseEpochs: 1
                pruning:
                  parameters: ["conv*.weight", "fc*.weight"]
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
                  minAccuracy: 0
                  policy: stop
                checkpoints:
                  keepLast: 2
                publish:
                  name: %s
                """.formatted(job, SUBSET, finalSparsity, steps, iterationsPerStep, job);
    }
}
