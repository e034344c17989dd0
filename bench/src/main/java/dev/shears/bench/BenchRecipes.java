package dev.shears.bench;

/** The LeNet-5 recipes the pipeline benchmarks submit: global L1 to 90 % on a cubic schedule, Nesterov SGD. */
final class BenchRecipes {
    private BenchRecipes() {}

    /**
     * A LeNet-5 job on Fashion-MNIST whose accuracy budget never intervenes.
     *
     * @param job the job's id, also its publication's name
     * @param data the recipe's {@code data}, or null for the default
     * @param denseEpochs dense epochs before the first step
     * @param steps schedule steps
     * @param iterationsPerStep fine-tuning iterations after each step
     */
    static String lenet5(String job, String data, int denseEpochs, int steps, int iterationsPerStep) {
        return String.join("\n",
                "job: " + job,
                "model: lenet5",
                data == null ? "" : "data: " + data,
                "training: {updater: nesterovs, learningRate: 0.01, momentum: 0.9, batchSize: 64, seed: 7, denseEpochs: "
                        + denseEpochs + "}",
                "pruning: {parameters: [\"conv*.weight\", \"fc*.weight\"], method: l1_unstructured, scope: global}",
                "schedule: {kind: polynomial, initialSparsity: 0.0, finalSparsity: 0.9, steps: " + steps
                        + ", power: 3}",
                "fineTune: {iterationsPerStep: " + iterationsPerStep + "}",
                "accuracyBudget: {maxDrop: 1.0, policy: stop}",
                "checkpoints: {keepLast: 2}",
                "publish: {name: " + job + "}", "");
    }
}
