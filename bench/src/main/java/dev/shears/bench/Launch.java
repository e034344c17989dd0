package dev.shears.bench;

import dev.shears.common.process.SerialFilter;
import picocli.CommandLine;

/** How a picocli benchmark's {@code main} runs it: behind the serialization filter, exiting with its code. */
final class Launch {
    private Launch() {}

    /**
     * Installs {@link SerialFilter} before anything is read (benchmarks load model zips), runs {@code command} on
     * {@code args} and exits with its exit code.
     */
    static void exit(Object command, String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(command).execute(args));
    }
}
