package dev.shears.scheduler.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that talks to the scheduler over HTTP ({@code --scheduler}, {@code --token-file}). A request that fails
 * (no scheduler, a bad token file) is printed to stderr and exits {@link Views#REQUEST_FAILED}, as does an answer the
 * command did not expect ({@link #expect}).
 */
public abstract class ClientCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    SchedulerOption scheduler;

    @Override
    public final Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            return run(out, err);
        } catch (SchedulerClient.Failure e) {
            err.println(e.getMessage());
            return Views.REQUEST_FAILED;
        } finally {
            out.flush();
        }
    }

    /** The command's work, its exit code; {@code scheduler.client()} talks to the scheduler. */
    abstract int run(PrintWriter out, PrintWriter err) throws SchedulerClient.Failure, InterruptedException;

    /** Whether {@code r} has the {@code status} expected; when not, the scheduler's refusal is printed to {@code err}. */
    static boolean expect(SchedulerClient.Response r, int status, PrintWriter err) {
        if (r.status() == status) {
            return true;
        }
        Views.refusal(err, r);
        return false;
    }
}
