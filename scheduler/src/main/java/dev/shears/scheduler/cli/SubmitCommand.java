package dev.shears.scheduler.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code submit RECIPE.yaml}: sends a recipe to the scheduler; with {@code --watch}, follows the job to its end. */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = "Submit a recipe to the scheduler. Exit 0 when accepted (with --watch: when published).")
public final class SubmitCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    SchedulerOption scheduler;

    @Parameters(index = "0", paramLabel = "RECIPE.yaml", description = "The recipe file.")
    Path recipe;

    @Mixin
    WatchOption watch;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String yaml;
        try {
            yaml = Files.readString(recipe);
        } catch (IOException e) {
            err.println("cannot read recipe " + recipe + ": " + e + " (fix: give the path of a recipe YAML file)");
            return Views.REQUEST_FAILED;
        }
        try {
            SchedulerClient client = scheduler.client();
            SchedulerClient.Response r = client.post("/jobs", yaml, "application/yaml");
            if (r.status() != 201) {
                Views.refusal(err, r);
                return Views.REQUEST_FAILED;
            }
            String job = r.body().path("job").asText();
            out.println("submitted " + job + " (" + r.body().path("steps").asText() + " steps): " + client.base()
                    + "/jobs/" + job);
            out.flush();
            return watch.enabled ? watch.follow(client, job, out, err) : Views.OK;
        } catch (SchedulerClient.Failure e) {
            err.println(e.getMessage());
            return Views.REQUEST_FAILED;
        }
    }
}
