package dev.shears.trainer.cli;

import dev.shears.common.process.SerialFilter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The trainer image's command line: a worker ({@code worker --bootstrap ...}) or a whole job in one process
 * ({@code train --recipe ...}), as {@code ./shears} spells them. No scheduler and no broker are on its classpath.
 * Without a command it prints its usage and exits with status 2.
 */
@Command(name = "shears", mixinStandardHelpOptions = true, version = "shears 0.1.0",
        description = "The Shears trainer: a worker on Kafka, or one job start to finish without Kafka.",
        subcommands = {WorkerCommand.class, TrainCommand.class, SensitivityCommand.class},
        commandListHeading = "%nCommands:%n")
public final class TrainerCli {

    /** The trainer image's entry point: {@code worker --bootstrap kafka:9092 --work-dir /work ...}. */
    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new TrainerCli()).execute(args));
    }
}
