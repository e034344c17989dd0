package dev.shears.deploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The options of the commands that start a local pipeline: one declaration, each command's own directory. */
class LocalPipelineOptionsTest {

    @Test
    void upKeepsItsPipelineInRunsLocalAndTheDemoInRunsDemoUnlessTold() {
        UpCommand up = new UpCommand();
        new CommandLine(up).parseArgs();
        DemoCommand demo = new DemoCommand();
        new CommandLine(demo).parseArgs("--workers", "3");
        UpCommand told = new UpCommand();
        new CommandLine(told).parseArgs("--dir", "elsewhere");

        assertThat(up.local.dir).isEqualTo(Path.of("runs/local"));
        assertThat(demo.local.dir).isEqualTo(Path.of("runs/demo"));
        assertThat(told.local.dir).isEqualTo(Path.of("elsewhere"));
        assertThat(up.local.pipeline().workers()).isEqualTo(2);
        assertThat(demo.local.pipeline().workers()).isEqualTo(3);
    }

    @Test
    void workersFindDataUnderDataThenDebiansPackagesAndTheQuickDemoAlsoFindsTheCommittedSubset() {
        UpCommand up = new UpCommand();
        new CommandLine(up).parseArgs();
        UpCommand told = new UpCommand();
        new CommandLine(told).parseArgs("--data-root", "/srv/sets", "--data-root", "mine", "--model-root", "/srv/nets");
        DemoCommand quick = new DemoCommand();
        new CommandLine(quick).parseArgs("--quick");
        DemoCommand full = new DemoCommand();
        new CommandLine(full).parseArgs();

        assertThat(up.local.pipeline().dataRoots()).containsExactly(Path.of("data").toAbsolutePath(),
                Path.of("/usr/share/datasets"));
        assertThat(up.local.pipeline().modelRoots()).containsExactly(Path.of("models").toAbsolutePath());
        assertThat(told.local.pipeline().dataRoots()).containsExactly(Path.of("/srv/sets"),
                Path.of("mine").toAbsolutePath());
        assertThat(told.local.pipeline().modelRoots()).containsExactly(Path.of("/srv/nets"));
        assertThat(quick.options(Path.of("/opt/shears")).dataRoots()).containsExactly(Path.of("data").toAbsolutePath(),
                Path.of("/usr/share/datasets"), Path.of("/opt/shears/trainer/src/test/resources"));
        assertThat(full.options(Path.of("/opt/shears")).dataRoots()).isEqualTo(up.local.pipeline().dataRoots());
    }
}
