package dev.shears.deploy.cli;

import dev.shears.deploy.launch.ChildProcess;
import dev.shears.deploy.launch.LocalPipeline;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shears up}: the pipeline on this machine (broker, scheduler, workers) in the foreground until Ctrl-C. */
@Command(name = "up", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the whole pipeline on this machine until Ctrl-C: a Kafka broker (KRaft, 127.0.0.1), the"
                + " scheduler and trainer workers, each in its own JVM. Submit jobs to it with ./shears submit.",
                "Its directory is reused as it is: topics, checkpoints and models stay from one run to the next."})
public final class UpCommand implements Callable<Integer> {

    @Mixin
    LocalPipelineOptions local = new LocalPipelineOptions("runs/local");

    @Option(names = "--broker-port", paramLabel = "PORT", defaultValue = "9092",
            description = "Kafka's port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int brokerPort;

    @Option(names = "--scheduler-port", paramLabel = "PORT", defaultValue = "8080",
            description = "The scheduler's HTTP port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int schedulerPort;

    @Override
    public Integer call() throws InterruptedException {
        Path dir = local.dir;
        System.out.printf("starting the pipeline in %s ...%n", dir.toAbsolutePath());
        LocalPipeline pipeline;
        try {
            pipeline = LocalPipeline.start(dir, local.pipeline().withPorts(brokerPort, schedulerPort));
        } catch (IllegalStateException e) {
            System.err.println("shears: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("shears: stopping the workers, the scheduler and the broker ...");
            pipeline.close();
            stopped.countDown();
        }, "shears-up-stop"));
        describe(pipeline, System.out);
        System.out.printf("%nSubmit a job from another terminal:%n  ./shears submit trainer/src/main/resources/recipes/"
                + "lenet5-fmnist-90.yaml --scheduler %s --watch%nCtrl-C stops everything (checkpoints and topics stay in %s).%n",
                pipeline.schedulerUrl(), dir);
        System.out.flush();
        stopped.await();
        return 0;
    }

    static void describe(LocalPipeline pipeline, PrintStream out) {
        out.printf("%-10s %s   (log %s)%n", "kafka", pipeline.bootstrapServers(), pipeline.kafka().logFile());
        out.printf("%-10s %s   metrics %s/metrics   (log %s)%n", "scheduler", pipeline.schedulerUrl(),
                pipeline.schedulerUrl(), pipeline.scheduler().log());
        for (ChildProcess w : pipeline.workers()) {
            out.printf("%-10s pid %d   (log %s)%n", w.name(), w.pid(), w.log());
        }
        out.printf("%-10s %s%n", "models", pipeline.workDir().resolve("jobs/<job>/models"));
    }
}
