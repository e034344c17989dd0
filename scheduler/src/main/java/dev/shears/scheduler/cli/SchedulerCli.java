package dev.shears.scheduler.cli;

import dev.shears.common.process.SerialFilter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The scheduler image's command line: the service ({@code scheduler --bootstrap ...}) and its clients ({@code submit},
 * {@code jobs}, {@code status}, {@code cancel}), as {@code ./shears} spells them. No training code and no broker are on
 * its classpath. Without a command it prints its usage and exits with status 2.
 */
@Command(name = "shears", mixinStandardHelpOptions = true, version = "shears 0.1.0",
        description = "The Shears scheduler service and its clients.",
        subcommands = {SchedulerCommand.class, SubmitCommand.class, JobsCommand.class, StatusCommand.class,
                CancelCommand.class},
        commandListHeading = "%nCommands:%n")
public final class SchedulerCli {

    /** The scheduler image's entry point: {@code scheduler --bootstrap kafka:9092 ...}. */
    public static void main(String[] args) {
        SerialFilter.install();
        SchedulerCommand.logToStandardError();
        System.exit(new CommandLine(new SchedulerCli()).execute(args));
    }
}
