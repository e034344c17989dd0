package dev.shears.scheduler.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cancel JOB}: asks the scheduler to cancel a running job. */
@Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a running job.")
public final class CancelCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    SchedulerOption scheduler;

    @Parameters(index = "0", paramLabel = "JOB", description = "The job id (the recipe's job).")
    String job;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            SchedulerClient.Response r = scheduler.client().post("/jobs/" + job + "/cancel", "", "text/plain");
            if (r.status() != 202) {
                Views.refusal(err, r);
                return Views.REQUEST_FAILED;
            }
            spec.commandLine().getOut().println("cancelled " + job + " at step " + r.body().path("step").asText()
                    + "/" + r.body().path("steps").asText());
            spec.commandLine().getOut().flush();
            return Views.OK;
        } catch (SchedulerClient.Failure e) {
            err.println(e.getMessage());
            return Views.REQUEST_FAILED;
        }
    }
}
