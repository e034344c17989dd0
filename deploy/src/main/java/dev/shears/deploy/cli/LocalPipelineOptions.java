package dev.shears.deploy.cli;

import dev.shears.deploy.launch.LocalPipeline;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --dir DIR} and {@code --workers N}: where a local pipeline lives and how many workers it runs, for the
 * commands that start one. A picocli mixin; each command chooses the default directory.
 */
final class LocalPipelineOptions {

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Broker data, checkpoints, published models and logs (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "2",
            description = "Trainer workers (default: ${DEFAULT-VALUE}).")
    int workers;

    /** @param defaultDir the directory when {@code --dir} is not given */
    LocalPipelineOptions(String defaultDir) {
        this.dir = Path.of(defaultDir);
    }

    /** {@link LocalPipeline.Options#defaults()} with {@code --workers}. */
    LocalPipeline.Options pipeline() {
        return LocalPipeline.Options.defaults().withWorkers(workers);
    }
}
