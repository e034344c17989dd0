package dev.shears.trainer.model;

import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Examples;
import dev.shears.trainer.data.LoadedDataset;
import dev.shears.trainer.data.Roots;
import dev.shears.trainer.data.Subset;
import java.nio.file.Path;
import java.util.Locale;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * Training throughput of LeNet-5 on the full Fashion-MNIST, by hand (not a test: timings have no
 * place in a unit test). Arguments: [iterations=200] [batch=64] [warm-up iterations=20] [data dir].
 * Set OMP_NUM_THREADS to choose ND4J's threads. Run from the repository root:
 *
 * <pre>
 * mvn -B -q -pl trainer -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * OMP_NUM_THREADS=2 java -cp trainer/target/test-classes:trainer/target/classes:$(cat /tmp/cp.txt) \
 *     dev.shears.trainer.model.TrainingThroughput 200 64
 * </pre>
 */
public final class TrainingThroughput {

    private TrainingThroughput() {}

    public static void main(String[] args) {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int batchSize = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int warmUp = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        Path dir = args.length > 3 ? Path.of(args[3]) : Roots.DEBIAN_DATASETS.resolve("fashion-mnist");

        long loadStart = System.nanoTime();
        Examples train = LoadedDataset.read(dir).trainExamples();
        double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
        MultiLayerNetwork net = Models.lenet5(42, new Nesterovs(0.01, 0.9), 0);
        Batches batches = Batches.shuffled(train, Subset.standard(1), batchSize, 42, Augmentation.NONE);

        for (int i = 0; i < warmUp; i++) {
            net.fit(batches.next());
        }
        long batchNanos = 0;
        long cpuStart = cpuNanos();
        long start = System.nanoTime();
        long samples = 0;
        for (int i = 0; i < iterations; i++) {
            long before = System.nanoTime();
            DataSet batch = batches.next();
            batchNanos += System.nanoTime() - before;
            net.fit(batch);
            samples += batch.numExamples();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (cpuNanos() - cpuStart) / 1e9;
        System.out.printf(Locale.ROOT,
                "LeNet-5 batch %d, OMP_NUM_THREADS=%s: %d iterations (%d samples) in %.2f s = %.0f samples/s "
                        + "(%.1f ms/iteration, of which batching %.2f ms; process CPU %.2f s = %.2f cores busy; "
                        + "data loaded in %.2f s)%n",
                batchSize, System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"), iterations, samples,
                seconds, samples / seconds, seconds * 1e3 / iterations, batchNanos / 1e6 / iterations,
                cpuSeconds, cpuSeconds / seconds, loadSeconds);
    }

    /** CPU time of the whole process, native OpenMP threads included: tells contention from slowness. */
    private static long cpuNanos() {
        return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
    }
}
