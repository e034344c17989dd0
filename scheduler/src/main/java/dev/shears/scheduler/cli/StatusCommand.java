package dev.shears.scheduler.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code status JOB}: one job's summary, its steps and its publication; {@code --watch} follows it to its end. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show a job: summary, per-step table, publication. With --watch, exit 0 only if published.")
public final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    SchedulerOption scheduler;

    @Parameters(index = "0", paramLabel = "JOB", description = "The job id (the recipe's job).")
    String job;

    @Mixin
    WatchOption watch;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            SchedulerClient client = scheduler.client();
            if (watch.enabled) {
                return watch.follow(client, job, out, err);
            }
            SchedulerClient.Response r = client.get("/jobs/" + job);
            if (r.status() != 200) {
                Views.refusal(err, r);
                return Views.REQUEST_FAILED;
            }
            Views.status(out, r.body());
            return Views.OK;
        } catch (SchedulerClient.Failure e) {
            err.println(e.getMessage());
            return Views.REQUEST_FAILED;
        }
    }
}
