package dev.shears.scheduler.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** {@code --watch} and {@code --interval MS}: following a job to its end, for the commands that name one. A mixin. */
final class WatchOption {

    @Option(names = "--watch", description = "Follow the job until it ends (redrawn in place on a terminal); exit 0"
            + " only if it is published.")
    boolean enabled;

    @Option(names = "--interval", defaultValue = "1000", paramLabel = "MS", description = "Watch poll interval (ms).")
    long intervalMillis;

    /** @return the exit code: 0 only when the job was published */
    int follow(SchedulerClient client, String job, PrintWriter out, PrintWriter err)
            throws SchedulerClient.Failure, InterruptedException {
        return Watch.until(client, job, out, err, intervalMillis);
    }
}
