package dev.shears.deploy.launch;

import dev.shears.broker.EmbeddedKafka;
import dev.shears.common.process.ParentWatch;
import dev.shears.trainer.data.Roots;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The whole pipeline on one machine: a single-node KRaft broker, the scheduler and N trainer workers, each in its own
 * JVM, as they run in production. Used by {@code shears up}, {@code shears demo} and the multi-process integration
 * tests. Everything lives under one directory: {@code kafka/} (the broker's data), {@code work/} (the workers' shared
 * checkpoints and published models), {@code logs/} (one log per process).
 *
 * <p>{@link #close()} stops the workers (gracefully), the scheduler and the broker, in that order. If this JVM dies,
 * its children follow ({@link ParentWatch}).
 */
public final class LocalPipeline implements AutoCloseable {
    static final Pattern SCHEDULER_READY = Pattern.compile("scheduler ready on (http://\\S+)");
    /** A worker's ready line; it names its metrics endpoint, e.g. {@code metrics http://127.0.0.1:40123/metrics}. */
    static final Pattern WORKER_READY = Pattern.compile("worker (\\S+) ready.*?metrics (http://[^\\s,)]+)");

    private final Path dir;
    private final Options options;
    private final EmbeddedKafka kafka;
    private final List<ChildProcess> workers = new ArrayList<>();
    private ChildProcess scheduler;
    private URI schedulerUrl;

    /**
     * The knobs of a local pipeline; {@link #defaults()} suits a laptop.
     *
     * @param dataRoots  the workers' {@code --data-root}s, where recipes' data set names resolve, in search order
     * @param modelRoots the workers' {@code --model-root}s, where {@code model: file:<name>} resolves; none for none
     */
    public record Options(int workers, String topicPrefix, int partitions, int brokerPort, int schedulerPort,
            int sessionTimeoutMs, List<String> jvmOptions, Map<String, String> env,
            Duration startupTimeout, List<Path> dataRoots, List<Path> modelRoots) {
        public Options {
            if (workers < 0 || workers > 64) {
                throw new IllegalArgumentException("workers " + workers + " is out of range: must be in [0, 64]"
                        + " (fix: one worker per job that should train at once, e.g. 2)");
            }
            jvmOptions = List.copyOf(jvmOptions);
            env = Map.copyOf(env);
            dataRoots = dataRoots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
            modelRoots = modelRoots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        }

        /**
         * Two workers, topics {@code shears.*} with 6 partitions, ports picked free, 10 s sessions, 2 GiB heaps, one
         * OpenMP thread per worker that does not spin (two LeNet workers share a small machine's cores), data sets
         * under {@code /usr/share/datasets} (where {@code dataset-fashion-mnist} installs), no model root.
         */
        public static Options defaults() {
            Map<String, String> env = new LinkedHashMap<>();
            env.put("OMP_NUM_THREADS", "1");
            env.put("OMP_WAIT_POLICY", "PASSIVE");
            return new Options(2, "shears", 6, 0, 0, 10_000, List.of("-Xmx2g"), env, Duration.ofSeconds(180),
                    List.of(Roots.DEBIAN_DATASETS), List.of());
        }

        public Options withWorkers(int n) {
            return new Options(n, topicPrefix, partitions, brokerPort, schedulerPort, sessionTimeoutMs, jvmOptions, env,
                    startupTimeout, dataRoots, modelRoots);
        }

        public Options withPorts(int broker, int scheduler) {
            return new Options(workers, topicPrefix, partitions, broker, scheduler, sessionTimeoutMs, jvmOptions, env,
                    startupTimeout, dataRoots, modelRoots);
        }

        public Options withSessionTimeoutMs(int ms) {
            return new Options(workers, topicPrefix, partitions, brokerPort, schedulerPort, ms, jvmOptions, env,
                    startupTimeout, dataRoots, modelRoots);
        }

        /** With these data roots, searched in order. */
        public Options withDataRoots(List<Path> roots) {
            return new Options(workers, topicPrefix, partitions, brokerPort, schedulerPort, sessionTimeoutMs,
                    jvmOptions, env, startupTimeout, roots, modelRoots);
        }

        /** With these model roots, searched in order. */
        public Options withModelRoots(List<Path> roots) {
            return new Options(workers, topicPrefix, partitions, brokerPort, schedulerPort, sessionTimeoutMs,
                    jvmOptions, env, startupTimeout, dataRoots, roots);
        }

        /** With these options for each child JVM (the scheduler's and the workers'), e.g. {@code -Xmx2g}. */
        public Options withJvmOptions(List<String> options) {
            return new Options(workers, topicPrefix, partitions, brokerPort, schedulerPort, sessionTimeoutMs,
                    options, env, startupTimeout, dataRoots, modelRoots);
        }

        public Options withTopicPrefix(String prefix) {
            return new Options(workers, prefix, partitions, brokerPort, schedulerPort, sessionTimeoutMs, jvmOptions,
                    env,
                    startupTimeout, dataRoots, modelRoots);
        }
    }

    private LocalPipeline(Path dir, Options options) {
        this.dir = dir.toAbsolutePath();
        this.options = options;
        this.kafka = EmbeddedKafka.start(this.dir.resolve("kafka"),
                EmbeddedKafka.Options.defaults().withPort(options.brokerPort()));
    }

    /**
     * Starts the broker, then the scheduler (which creates the topics), then the workers, each once the one before
     * says it is ready.
     *
     * @throws IllegalStateException when a part does not start, with its log's tail; what started is stopped again
     */
    public static LocalPipeline start(Path dir, Options options) {
        LocalPipeline pipeline = new LocalPipeline(dir, options);
        try {
            pipeline.startScheduler();
            for (int i = 1; i <= options.workers(); i++) {
                pipeline.startWorker("worker-" + i);
            }
            return pipeline;
        } catch (RuntimeException e) {
            pipeline.close();
            throw e;
        }
    }

    /** Starts the scheduler (again, after it was stopped or killed) on the same port when it had one. */
    public synchronized ChildProcess startScheduler() {
        int port = schedulerUrl != null ? schedulerUrl.getPort() : options.schedulerPort();
        scheduler = ChildProcess.start("scheduler", List.of("scheduler", "--bootstrap", kafka.bootstrapServers(),
                "--http-port", Integer.toString(port), "--topic-prefix", options.topicPrefix(),
                "--partitions", Integer.toString(options.partitions())),
                options.jvmOptions(), options.env(), dir.resolve("logs/scheduler.log"), SCHEDULER_READY,
                options.startupTimeout());
        schedulerUrl = URI.create(scheduler.ready().group(1));
        return scheduler;
    }

    /** Starts one more worker in the group, with its own log {@code logs/<id>.log}. */
    public synchronized ChildProcess startWorker(String id) {
        return startWorker(id, options.jvmOptions());
    }

    /** {@link #startWorker(String)} with other options for its JVM than the pipeline's, e.g. another heap. */
    public synchronized ChildProcess startWorker(String id, List<String> jvmOptions) {
        List<String> args = new ArrayList<>(List.of("worker", "--bootstrap", kafka.bootstrapServers(),
                "--worker-id", id, "--work-dir", workDir().toString(), "--topic-prefix", options.topicPrefix(),
                "--metrics-port", "0", "--session-timeout-ms", Integer.toString(options.sessionTimeoutMs())));
        options.dataRoots().forEach(root -> args.addAll(List.of("--data-root", root.toString())));
        options.modelRoots().forEach(root -> args.addAll(List.of("--model-root", root.toString())));
        ChildProcess worker = ChildProcess.start(id, args, jvmOptions, options.env(),
                dir.resolve("logs/" + id + ".log"), WORKER_READY, options.startupTimeout());
        workers.add(worker);
        return worker;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public URI schedulerUrl() {
        return schedulerUrl;
    }

    public ChildProcess scheduler() {
        return scheduler;
    }

    /** The workers started so far, dead ones included, in start order. */
    public synchronized List<ChildProcess> workers() {
        return List.copyOf(workers);
    }

    public synchronized ChildProcess worker(String id) {
        return workers.stream().filter(w -> w.name().equals(id)).reduce((a, b) -> b).orElseThrow(
                () -> new IllegalArgumentException("no worker " + id + " (started: " + workers + ")"));
    }

    /** The {@code /metrics} endpoint of a worker, as it announced it. */
    public URI workerMetrics(ChildProcess worker) {
        return URI.create(worker.ready().group(2));
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    /** The workers' shared directory: {@code jobs/<job>/checkpoints}, {@code jobs/<job>/models}. */
    public Path workDir() {
        return dir.resolve("work");
    }

    public Path logDir() {
        return dir.resolve("logs");
    }

    @Override
    public synchronized void close() {
        for (ChildProcess worker : workers) {
            worker.close();
        }
        if (scheduler != null) {
            scheduler.close();
        }
        kafka.close();
    }
}
