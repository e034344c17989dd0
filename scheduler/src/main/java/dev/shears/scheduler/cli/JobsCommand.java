package dev.shears.scheduler.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** {@code jobs}: the scheduler's jobs as a table. */
@Command(name = "jobs", mixinStandardHelpOptions = true, description = "List the scheduler's jobs.")
public final class JobsCommand extends ClientCommand {

    @Override
    int run(PrintWriter out, PrintWriter err) throws SchedulerClient.Failure {
        SchedulerClient.Response r = scheduler.client().get("/jobs");
        if (!expect(r, 200, err)) {
            return Views.REQUEST_FAILED;
        }
        Views.jobsTable(out, r.body().path("jobs"));
        return Views.OK;
    }
}
