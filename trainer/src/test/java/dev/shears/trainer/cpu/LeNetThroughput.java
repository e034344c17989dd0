package dev.shears.trainer.cpu;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * LeNet-5 training throughput (samples/s, batch 64, after warm-up), by hand: DL4J's built-in CPU path against oneDNN,
 * each with 1 and 2 OpenMP threads, in one invocation; and the cost of masked training (a listener masking gradients
 * before the updater and parameters after each step) against dense training.
 *
 * <p>Each configuration runs in a fresh JVM with {@code OMP_NUM_THREADS} and {@code OMP_WAIT_POLICY=PASSIVE} in its
 * environment, exactly as a launcher would start a worker; configurations are interleaved round by round so that a
 * busy neighbour slows all of them alike, and the table shows the median (min..max) over rounds. The built-in path is
 * {@code -Dorg.eclipse.deeplearning4j.helpers.disable=true} plus {@code Nd4j.getEnvironment().allowHelpers(false)}
 * (no oneDNN kernel at all, the code DL4J runs on the plain {@code linux-x86_64} artifact);
 * {@code --builtin-classpath CP} runs it on another classpath instead, e.g. one with the plain artifact.
 *
 * <pre>
 * mvn -B -q -pl trainer -am test-compile dependency:build-classpath \
 *     -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath
 * java -cp trainer/target/test-classes:trainer/target/classes:$(cat trainer/target/test.classpath) \
 *     dev.shears.trainer.cpu.LeNetThroughput [--rounds 3] [--seconds 10] [--warmup 60] [--threads 1,2]
 *     [--no-mask] [--mask-seconds 60] [--mask-order param|c|f|flat] [--builtin-classpath CP]
 * </pre>
 *
 * The masking measurement runs in one JVM (oneDNN, 1 thread): a dense and a masked network of the same seed train
 * alternately, block by block (the order flips every pair), and the overhead is given by wall time and by CPU time,
 * over all blocks and as the median of the per-pair ratios; and directly, as the time spent inside the listener's
 * callbacks against the masked step time, which a busy machine inflates alike and so is the figure to trust there.
 */
public final class LeNetThroughput {

    private static final String CHILD = "--child";
    private static final String RESULT = "RESULT ";

    private LeNetThroughput() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals(CHILD)) {
            child(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        Options options = Options.parse(args);
        System.out.printf(Locale.ROOT, "LeNet-5 training throughput, batch %d; %d cores; %s; load average %s%n",
                LeNet5.BATCH, Runtime.getRuntime().availableProcessors(), cpuModel(), loadAverage());

        List<String> configs = new ArrayList<>();
        for (String path : List.of("builtin", "onednn")) {
            for (int threads : options.threads) {
                configs.add(path + ":" + threads);
            }
        }
        Map<String, List<Double>> results = new LinkedHashMap<>();
        Map<String, List<Double>> perCpuSecond = new LinkedHashMap<>();
        Map<String, String> describe = new LinkedHashMap<>();
        configs.forEach(c -> results.put(c, new ArrayList<>()));
        configs.forEach(c -> perCpuSecond.put(c, new ArrayList<>()));
        for (int round = 1; round <= options.rounds; round++) {
            for (String config : configs) {
                String[] parts = config.split(":");
                Map<String, String> out = runChild(options, parts[0], Integer.parseInt(parts[1]), "throughput");
                double samplesPerSecond = Double.parseDouble(out.get("samples_per_s"));
                results.get(config).add(samplesPerSecond);
                perCpuSecond.get(config).add(Double.parseDouble(out.get("samples_per_cpu_s")));
                describe.put(config, out.get("describe"));
                System.out.printf(Locale.ROOT, "  round %d  %-9s %8.1f samples/s  (cpu/wall %s, load %s)%n", round,
                        config, samplesPerSecond, out.get("cpu_per_wall"), loadAverage());
            }
        }

        if (options.rounds > 0) {
            System.out.println();
            System.out.println("| path | OpenMP threads | samples/s median (min..max) | vs built-in, same threads "
                    + "| vs 1 thread, same path | samples per CPU-second |");
            System.out.println("|---|---|---|---|---|---|");
            for (String config : configs) {
                String[] parts = config.split(":");
                double median = median(results.get(config));
                double builtIn = median(results.get("builtin:" + parts[1]));
                List<Double> oneThread = results.get(parts[0] + ":1");
                System.out.printf(Locale.ROOT, "| %s | %s | %.0f (%.0f..%.0f) | %.2fx | %s | %.0f |%n",
                        parts[0].equals("builtin") ? "built-in (im2col + gemm)" : "oneDNN", parts[1], median,
                        min(results.get(config)), max(results.get(config)), median / builtIn,
                        oneThread == null ? "-" : String.format(Locale.ROOT, "%.2fx", median / median(oneThread)),
                        median(perCpuSecond.get(config)));
            }
            System.out.println("(samples per CPU-second: samples / CPU time of the whole JVM; with 1 thread, roughly "
                    + "what the configuration does on a core of its own, whatever the neighbours take)");
            System.out.println();
            describe.forEach((config, line) -> System.out.println("  " + config + ": " + line));
        }

        if (options.mask) {
            System.out.println();
            Map<String, String> out = runChild(options, "onednn", 1, "mask");
            System.out.printf(Locale.ROOT, "Masked vs dense training (oneDNN, 1 thread, one JVM, %s alternating pairs "
                    + "of %s steps, %s of each weight masked):%n"
                    + "  wall clock: dense %s samples/s, masked %s samples/s; overhead %s %% (total time), "
                    + "%s %% (median pair); pair ratios %s%n"
                    + "  CPU time:   dense %s samples/CPU-s, masked %s samples/CPU-s (process); overhead %s %% "
                    + "(process total), %s %% (median pair, training thread)%n"
                    + "  direct:     the listener's two callbacks take %s us CPU per step = %s %% of the masked "
                    + "step's CPU time (wall: %s us = %s %%)%n"
                    + "  (%s masked weights; parameter/mask orderings %s)%n",
                    out.get("pairs"), out.get("block"), out.get("sparsity"),
                    out.get("dense"), out.get("masked"), out.get("overhead_total_pct"), out.get("overhead_pct"),
                    out.get("ratios"), out.get("dense_cpu"), out.get("masked_cpu"), out.get("overhead_cpu_total_pct"),
                    out.get("overhead_cpu_pct"), out.get("listener_cpu_us_per_step"), out.get("listener_cpu_pct"),
                    out.get("listener_us_per_step"), out.get("listener_pct"),
                    out.get("masked_elements"), out.get("orders"));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private record Options(int rounds, double seconds, int warmup, int[] threads, boolean mask, double maskSeconds,
            String maskOrder, String builtInCp) {

        static Options parse(String[] args) {
            int rounds = 3;
            double seconds = 10;
            int warmup = 60;
            int[] threads = {1, 2};
            boolean mask = true;
            double maskSeconds = 60;
            String maskOrder = "param";
            String builtInCp = null;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                    case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                    case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                    case "--threads" -> threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt)
                            .toArray();
                    case "--no-mask" -> mask = false;
                    case "--mask-seconds" -> maskSeconds = Double.parseDouble(args[++i]);
                    case "--mask-order" -> maskOrder = args[++i];
                    case "--builtin-classpath" -> builtInCp = args[++i];
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            return new Options(rounds, seconds, warmup, threads, mask, maskSeconds, maskOrder, builtInCp);
        }
    }

    private static Map<String, String> runChild(Options options, String path, int threads, String what)
            throws IOException, InterruptedException {
        String classpath = path.equals("builtin") && options.builtInCp != null ? options.builtInCp
                : System.getProperty("java.class.path");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g",
                "-D" + CpuAcceleration.HELPERS_DISABLE_PROPERTY + "=" + path.equals("builtin"),
                "-Dorg.nd4j.log.initialization=false",
                "-cp", classpath,
                LeNetThroughput.class.getName(), CHILD, path, what,
                String.valueOf(what.equals("mask") ? options.maskSeconds : options.seconds),
                String.valueOf(options.warmup), options.maskOrder));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
        builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process process = builder.start();
        Map<String, String> result = new LinkedHashMap<>();
        List<String> log = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith(RESULT)) {
                    int eq = line.indexOf('=');
                    result.put(line.substring(RESULT.length(), eq), line.substring(eq + 1));
                } else {
                    log.add(line);
                }
            }
        }
        int rc = process.waitFor();
        if (rc != 0 || result.isEmpty()) {
            log.forEach(System.err::println);
            throw new IllegalStateException(path + ":" + threads + " " + what + " failed with exit code " + rc);
        }
        return result;
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static void child(String[] args) {
        String path = args[0];
        String what = args[1];
        double seconds = Double.parseDouble(args[2]);
        int warmup = Integer.parseInt(args[3]);
        if (path.equals("builtin")) {
            Nd4j.getEnvironment().allowHelpers(false); // no oneDNN kernel inside libnd4j's own ops either
        } else {
            CpuAcceleration.Status status = CpuAcceleration.enable();
            if (!status.oneDnn()) {
                throw new IllegalStateException("oneDNN requested but not active: " + status);
            }
        }
        INDArray[] batch = LeNet5.randomBatch(7, LeNet5.BATCH);
        if (what.equals("mask")) {
            maskChild(batch, seconds, warmup, args[4]);
        } else {
            MultiLayerNetwork net = LeNet5.network(42, true);
            for (int i = 0; i < warmup; i++) {
                net.fit(batch[0], batch[1]);
            }
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            long deadline = t0 + (long) (seconds * 1e9);
            int iterations = 0;
            while (System.nanoTime() < deadline || iterations < 10) {
                net.fit(batch[0], batch[1]);
                iterations++;
            }
            long wall = System.nanoTime() - t0;
            result("samples_per_s",
                    String.format(Locale.ROOT, "%.1f", iterations * (double) LeNet5.BATCH * 1e9 / wall));
            long cpu = os.getProcessCpuTime() - cpu0;
            result("cpu_per_wall", String.format(Locale.ROOT, "%.2f", cpu / (double) wall));
            result("samples_per_cpu_s",
                    String.format(Locale.ROOT, "%.1f", iterations * (double) LeNet5.BATCH * 1e9 / cpu));
        }
        result("describe", path.equals("builtin")
                ? "built-in: helpers disabled, Nd4j.getEnvironment().allowHelpers(false), native build "
                        + (CpuAcceleration.oneDnnBuild() ? "with" : "without") + " oneDNN; "
                        + CpuAcceleration.describe().replaceFirst("^[^;]*; ", "")
                : CpuAcceleration.describe());
    }

    /** Dense and masked LeNet-5 trained alternately in this JVM; the overhead is the median per-pair time ratio. */
    private static void maskChild(INDArray[] batch, double seconds, int warmup, String maskOrder) {
        double sparsity = 0.5;
        int block = 20;
        MultiLayerNetwork dense = LeNet5.network(42, true);
        MultiLayerNetwork masked = LeNet5.network(42, true);
        Map<String, INDArray> masks = new LinkedHashMap<>();
        Nd4j.getRandom().setSeed(3);
        masked.paramTable().forEach((key, param) -> {
            if (key.endsWith("_W")) {
                // in the parameter's own ordering ('f' for dense weights): a mask of the other ordering makes every
                // muli take libnd4j's slow mixed-order path (--mask-order c shows the cost)
                char order = maskOrder.equals("c") || maskOrder.equals("f") ? maskOrder.charAt(0) : param.ordering();
                INDArray mask = Nd4j.rand(DataType.FLOAT, param.shape()).gt(sparsity).castTo(DataType.FLOAT).dup(order);
                masks.put(key, mask);
                param.muli(mask);
            }
        });
        INDArray flatMask = null;
        if (maskOrder.equals("flat")) {
            // one mask over the network's flattened parameter vector (1 for biases): set every parameter to 1, mask
            // the views, copy the vector, put the parameters back; gradients share the same layout
            INDArray saved = masked.params().dup();
            masked.params().assign(1.0);
            masks.forEach((key, mask) -> masked.getParam(key).muli(mask));
            flatMask = masked.params().dup();
            masked.params().assign(saved);
        }
        MaskingListener listener = new MaskingListener(masks, flatMask);
        masked.setListeners(listener);
        for (int i = 0; i < warmup; i++) {
            dense.fit(batch[0], batch[1]);
            masked.fit(batch[0], batch[1]);
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        List<Double> ratios = new ArrayList<>();
        List<Double> cpuRatios = new ArrayList<>();
        var threads = ManagementFactory.getThreadMXBean();
        listener.nanos = 0;
        listener.cpuNanos = 0;
        long[] denseTotal = new long[3];
        long[] maskedTotal = new long[3];
        long steps = 0;
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        for (int pair = 0; System.nanoTime() < deadline || pair < 10; pair++) {
            boolean denseFirst = pair % 2 == 0;
            long[] a = timeBlock(denseFirst ? dense : masked, batch, block, os, threads);
            long[] b = timeBlock(denseFirst ? masked : dense, batch, block, os, threads);
            long[] d = denseFirst ? a : b;
            long[] m = denseFirst ? b : a;
            for (int i = 0; i < 3; i++) {
                denseTotal[i] += d[i];
                maskedTotal[i] += m[i];
            }
            steps += block;
            ratios.add(m[0] / (double) d[0]);
            cpuRatios.add(m[1] / (double) d[1]);
        }
        // the masked network really is masked
        masks.forEach((key, mask) -> {
            if (masked.getParam(key).mul(mask.rsub(1.0)).amaxNumber().doubleValue() != 0.0) {
                throw new IllegalStateException("masked weights of " + key + " are not zero");
            }
        });
        double samples = steps * (double) LeNet5.BATCH * 1e9;
        result("pairs", String.valueOf(ratios.size()));
        result("block", String.valueOf(block));
        result("sparsity", String.format(Locale.ROOT, "%.0f %%", sparsity * 100));
        result("orders", (maskOrder.equals("flat") ? "one flat mask over all " + masked.numParams()
                + " parameters; per parameter " : "") + masks.entrySet().stream().map(
                        e -> e.getKey() + ":"
                                + masked.getParam(e.getKey()).ordering() + "/" + e.getValue().ordering())
                        .collect(java.util.stream.Collectors.joining(" ")));
        result("dense", String.format(Locale.ROOT, "%.0f", samples / denseTotal[0]));
        result("masked", String.format(Locale.ROOT, "%.0f", samples / maskedTotal[0]));
        result("dense_cpu", String.format(Locale.ROOT, "%.0f", samples / denseTotal[2]));
        result("masked_cpu", String.format(Locale.ROOT, "%.0f", samples / maskedTotal[2]));
        result("overhead_pct", String.format(Locale.ROOT, "%+.1f", (median(ratios) - 1) * 100));
        result("overhead_total_pct", String.format(Locale.ROOT, "%+.1f",
                (maskedTotal[0] / (double) denseTotal[0] - 1) * 100));
        result("overhead_cpu_pct", String.format(Locale.ROOT, "%+.1f", (median(cpuRatios) - 1) * 100));
        result("overhead_cpu_total_pct", String.format(Locale.ROOT, "%+.1f",
                (maskedTotal[2] / (double) denseTotal[2] - 1) * 100));
        List<Double> sorted = new ArrayList<>(ratios);
        sorted.sort(null);
        result("listener_us_per_step", String.format(Locale.ROOT, "%.1f", listener.nanos / 1e3 / steps));
        result("listener_pct", String.format(Locale.ROOT, "%.2f", 100.0 * listener.nanos / maskedTotal[0]));
        result("listener_cpu_us_per_step", String.format(Locale.ROOT, "%.1f", listener.cpuNanos / 1e3 / steps));
        result("listener_cpu_pct", String.format(Locale.ROOT, "%.2f", 100.0 * listener.cpuNanos / maskedTotal[1]));
        result("masked_elements", String.valueOf(masks.values().stream().mapToLong(INDArray::length).sum()));
        result("ratios", String.format(Locale.ROOT, "min %.3f, quartiles %.3f / %.3f, max %.3f",
                sorted.get(0), sorted.get(sorted.size() / 4), sorted.get(3 * sorted.size() / 4),
                sorted.get(sorted.size() - 1)));
    }

    /**
     * Wall, training-thread CPU and process CPU nanoseconds for {@code steps} training steps. With one OpenMP thread
     * the native work runs on the training thread, whose CPU clock has nanosecond resolution (the process clock ticks
     * in 10 ms, fine for totals only).
     */
    private static long[] timeBlock(MultiLayerNetwork net, INDArray[] batch, int steps,
            com.sun.management.OperatingSystemMXBean os, java.lang.management.ThreadMXBean threads) {
        long process0 = os.getProcessCpuTime();
        long thread0 = threads.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            net.fit(batch[0], batch[1]);
        }
        return new long[]{System.nanoTime() - t0, threads.getCurrentThreadCpuTime() - thread0,
                os.getProcessCpuTime() - process0};
    }

    /**
     * The masking under measure (a local copy; the trainer's own listener is written elsewhere): gradients times the
     * 0/1 mask before the updater, parameters times the mask after each iteration. Per parameter (one op per masked
     * parameter and callback) or, given a flat mask, over the flattened gradient and parameter vectors (one op each).
     */
    static final class MaskingListener extends BaseTrainingListener {
        private final Map<String, INDArray> masks;
        private final INDArray flatMask;
        private final java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        /** Wall and training-thread CPU time spent in the two callbacks: the direct measure of the overhead. */
        long nanos;
        long cpuNanos;

        MaskingListener(Map<String, INDArray> masks, INDArray flatMask) {
            this.masks = masks;
            this.flatMask = flatMask;
        }

        @Override
        public void onGradientCalculation(Model model) {
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            Gradient gradient = model.gradient();
            if (flatMask != null) {
                gradient.gradient().muli(flatMask);
            } else {
                masks.forEach((key, mask) -> gradient.getGradientFor(key).muli(mask));
            }
            nanos += System.nanoTime() - t0;
            cpuNanos += threads.getCurrentThreadCpuTime() - c0;
        }

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            if (flatMask != null) {
                model.params().muli(flatMask);
            } else {
                masks.forEach((key, mask) -> model.getParam(key).muli(mask));
            }
            nanos += System.nanoTime() - t0;
            cpuNanos += threads.getCurrentThreadCpuTime() - c0;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static void result(String key, String value) {
        System.out.println(RESULT + key + "=" + value);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    private static String cpuModel() {
        try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown CPU");
        } catch (IOException | RuntimeException e) {
            return "unknown CPU";
        }
    }
}
