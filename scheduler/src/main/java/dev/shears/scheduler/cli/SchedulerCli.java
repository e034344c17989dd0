package dev.shears.scheduler.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The scheduler image's command line: the service ({@code scheduler --bootstrap ...}) and its clients ({@code submit},
 * {@code jobs}, {@code status}, {@code cancel}), as {@code ./shears} spells them. No training code and no broker are on
 * its classpath.
 */
@Command(name = "shears", mixinStandardHelpOptions = true, version = "shears 0.1.0",
        description = "The Shears scheduler service and its clients.",
        subcommands = {SchedulerCommand.class, SubmitCommand.class, JobsCommand.class, StatusCommand.class,
            CancelCommand.class},
        commandListHeading = "%nCommands:%n")
public final class SchedulerCli implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The scheduler image's entry point: {@code scheduler --bootstrap kafka:9092 ...}. */
    public static void main(String[] args) {
        SchedulerCommand.logToStandardError();
        System.exit(new CommandLine(new SchedulerCli()).execute(args));
    }
}
