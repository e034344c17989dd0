package dev.shears.scheduler.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code cancel JOB}: asks the scheduler to cancel a running job. */
@Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a running job.")
public final class CancelCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "JOB", description = "The job id (the recipe's job).")
    String job;

    @Override
    int run(PrintWriter out, PrintWriter err) throws SchedulerClient.Failure {
        SchedulerClient.Response r = scheduler.client().post("/jobs/" + job + "/cancel", "", "text/plain");
        if (!expect(r, 202, err)) {
            return Views.REQUEST_FAILED;
        }
        out.println("cancelled " + job + " at step " + r.body().path("step").asText() + "/"
                + r.body().path("steps").asText());
        return Views.OK;
    }
}
