package dev.shears.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --dir}: where a benchmark's broker or pipelines live, a new temporary directory when not given (kept after the
 * run, for its logs). A picocli mixin of the benchmarks that start Kafka or a local pipeline.
 */
final class RunDirectory {
    @Option(names = "--dir", paramLabel = "DIR",
            description = "where the run's broker or pipelines live (default: a new temporary directory)")
    Path dir;

    /** The directory given, or a new temporary one whose name starts with {@code prefix}. */
    Path orTemporary(String prefix) throws IOException {
        return dir != null ? dir : Files.createTempDirectory(prefix);
    }
}
