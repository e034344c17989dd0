package dev.shears.scheduler.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code jobs}: the scheduler's jobs as a table. */
@Command(name = "jobs", mixinStandardHelpOptions = true, description = "List the scheduler's jobs.")
public final class JobsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    SchedulerOption scheduler;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            SchedulerClient.Response r = scheduler.client().get("/jobs");
            if (r.status() != 200) {
                Views.refusal(err, r);
                return Views.REQUEST_FAILED;
            }
            Views.jobsTable(spec.commandLine().getOut(), r.body().path("jobs"));
            return Views.OK;
        } catch (SchedulerClient.Failure e) {
            err.println(e.getMessage());
            return Views.REQUEST_FAILED;
        }
    }
}
