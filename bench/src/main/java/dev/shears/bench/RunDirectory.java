package dev.shears.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code --dir}: where a benchmark's broker or pipelines live, a new temporary directory when not given (kept after the
 * run, for its logs). A picocli mixin of the benchmarks that start Kafka or a local pipeline; on a command with
 * subcommands it may also be given after the subcommand's name (inherited).
 */
final class RunDirectory {
    @Option(names = "--dir", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "where the run's broker or pipelines live (default: a new temporary directory)")
    Path dir;

    /** The directory given, or a new temporary one whose name starts with {@code prefix}. */
    Path orTemporary(String prefix) throws IOException {
        return dir != null ? dir : Files.createTempDirectory(prefix);
    }
}
