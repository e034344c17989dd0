package dev.shears.scheduler.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code status JOB}: one job's summary, its steps and its publication; {@code --watch} follows it to its end. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show a job: summary, per-step table, publication. With --watch, exit 0 only if published.")
public final class StatusCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "JOB", description = "The job id (the recipe's job).")
    String job;

    @Mixin
    WatchOption watch;

    @Override
    int run(PrintWriter out, PrintWriter err) throws SchedulerClient.Failure, InterruptedException {
        SchedulerClient client = scheduler.client();
        if (watch.enabled) {
            return watch.follow(client, job, out, err);
        }
        SchedulerClient.Response r = client.get("/jobs/" + job);
        if (!expect(r, 200, err)) {
            return Views.REQUEST_FAILED;
        }
        Views.status(out, r.body());
        return Views.OK;
    }
}
