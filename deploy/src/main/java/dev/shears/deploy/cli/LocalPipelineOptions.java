package dev.shears.deploy.cli;

import dev.shears.deploy.launch.LocalPipeline;
import dev.shears.trainer.data.Roots;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --dir DIR}, {@code --workers N}, {@code --data-root DIR} and {@code --model-root DIR}: where a local pipeline
 * lives, how many workers it runs and what their recipes may name, for the commands that start one. A picocli mixin;
 * each command chooses the default directory.
 */
final class LocalPipelineOptions {

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Broker data, checkpoints, published models and logs (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "2",
            description = "Trainer workers (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--data-root", paramLabel = "DIR", description = "Where the workers find data sets by name"
            + " (data: <name>), searched in order; repeatable (default: data, then /usr/share/datasets).")
    List<Path> dataRoots = new ArrayList<>();

    @Option(names = "--model-root", paramLabel = "DIR", description = "Where the workers find saved models"
            + " (model: file:<name>); repeatable (default: models).")
    List<Path> modelRoots = new ArrayList<>();

    /** The data roots when none is given: {@code data} (your own data sets), then Debian's data set packages. */
    static final List<Path> DEFAULT_DATA_ROOTS = List.of(Path.of("data"), Roots.DEBIAN_DATASETS);
    /** The model root when none is given. */
    static final List<Path> DEFAULT_MODEL_ROOTS = List.of(Path.of("models"));

    /** @param defaultDir the directory when {@code --dir} is not given */
    LocalPipelineOptions(String defaultDir) {
        this.dir = Path.of(defaultDir);
    }

    /** {@link LocalPipeline.Options#defaults()} with {@code --workers}, {@code --data-root} and {@code --model-root}. */
    LocalPipeline.Options pipeline() {
        return LocalPipeline.Options.defaults().withWorkers(workers)
                .withDataRoots(dataRoots.isEmpty() ? DEFAULT_DATA_ROOTS : dataRoots)
                .withModelRoots(modelRoots.isEmpty() ? DEFAULT_MODEL_ROOTS : modelRoots);
    }
}
