package dev.shears.bench;

import java.time.Duration;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code --timeout-minutes}: how long a benchmark waits for one run before it gives up on it. A picocli mixin of the
 * benchmarks that wait for jobs; each gives its own default as the instance's initial value,
 * {@code @Mixin Deadline deadline = new Deadline(20);}, which picocli keeps and shows as the default. On a command
 * with subcommands it may also be given after the subcommand's name (inherited).
 */
final class Deadline {
    @Option(names = "--timeout-minutes", scope = ScopeType.INHERIT,
            description = "how long one run may take before the benchmark gives up on it (default ${DEFAULT-VALUE})")
    int minutes;

    /** {@code --timeout-minutes} unless given, in minutes. */
    Deadline(int minutes) {
        this.minutes = minutes;
    }

    /** Whether more than {@code --timeout-minutes} have passed since {@code startNanos}, a {@link System#nanoTime()}. */
    boolean passed(long startNanos) {
        return System.nanoTime() - startNanos > Duration.ofMinutes(minutes).toNanos();
    }
}
