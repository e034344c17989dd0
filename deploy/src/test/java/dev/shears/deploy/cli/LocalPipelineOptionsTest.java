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
}
