package dev.shears.trainer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code shears} command line (the trainer's commands). */
@Command(name = "shears", mixinStandardHelpOptions = true, version = "shears 0.1.0",
        description = "Prune models while they train: PyTorch's torch.nn.utils.prune on Deeplearning4j.",
        subcommands = {TrainCommand.class, WorkerCommand.class})
public final class ShearsCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        int code = new CommandLine(new ShearsCli()).execute(args);
        System.exit(code);
    }
}
