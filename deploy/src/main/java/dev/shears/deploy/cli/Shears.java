package dev.shears.deploy.cli;

import dev.shears.broker.BrokerMain;
import dev.shears.common.process.ParentWatch;
import dev.shears.common.process.SerialFilter;
import dev.shears.scheduler.cli.CancelCommand;
import dev.shears.scheduler.cli.JobsCommand;
import dev.shears.scheduler.cli.SchedulerCommand;
import dev.shears.scheduler.cli.StatusCommand;
import dev.shears.scheduler.cli.SubmitCommand;
import dev.shears.trainer.cli.SensitivityCommand;
import dev.shears.trainer.cli.TrainCommand;
import dev.shears.trainer.cli.WorkerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./shears}: every command of Shears, the services and their clients, under one name. */
@Command(name = "shears", mixinStandardHelpOptions = true, version = "shears 0.1.0",
        description = "Prune models while they train: PyTorch's torch.nn.utils.prune on Deeplearning4j, driven over Kafka.",
        subcommands = {
                DemoCommand.class, UpCommand.class, SubmitCommand.class, JobsCommand.class, StatusCommand.class,
                CancelCommand.class, TrainCommand.class, SensitivityCommand.class, SchedulerCommand.class,
                WorkerCommand.class, BrokerMain.class},
        commandListHeading = "%nCommands:%n")
public final class Shears implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        SerialFilter.install();
        // Before the first logger: this command line's logging, not whichever logback.xml comes first on the classpath.
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "dev/shears/deploy/cli/logback.xml");
        }
        ParentWatch.startIfAsked();
        int code = new CommandLine(new Shears()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
        System.exit(code);
    }
}
