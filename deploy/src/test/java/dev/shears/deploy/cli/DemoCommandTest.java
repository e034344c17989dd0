package dev.shears.deploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.trainer.checkpoint.Checkpoints;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * README's main command, {@code ./shears demo --quick}, as a user runs it: the whole pipeline starts, the shipped
 * recipe runs to a published model on the committed subset, and the output shows every step, the model with its
 * digest, and where the metrics are.
 */
class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    void quickDemoPublishesTheShippedRecipeAndSaysWhereEverythingIs() throws Exception {
        System.setProperty("shears.home", Path.of("..").toAbsolutePath().normalize().toString());
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        try (PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            code = new CommandLine(new DemoCommand()).execute("--quick", "--workers", "1", "--dir",
                    dir.resolve("demo").toString());
        } finally {
            System.setOut(original);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        original.println(text);

        assertThat(code).as(text).isZero();
        assertThat(text).contains("submitted lenet5-fmnist-90 (10 steps)", "lenet5-fmnist-90: published", "metrics:",
                "scheduler   http://127.0.0.1:");
        for (int seq = 0; seq <= 10; seq++) {
            assertThat(text).as("row of step %d", seq).containsPattern("(?m)^\\s+" + seq + "\\s+1\\s+0\\.\\d{4}");
        }
        assertThat(text).containsPattern("(?m)^\\s+10\\s+1\\s+0\\.9000\\s+0\\.9000");
        Matcher path = Pattern.compile("(?m)^path\\s+(\\S+)").matcher(text);
        assertThat(path.find()).as("the model's path").isTrue();
        assertThat(Path.of(path.group(1))).exists();
        Matcher sha = Pattern.compile("(?m)^sha256\\s+([0-9a-f]{64})").matcher(text);
        assertThat(sha.find()).as("the model's digest").isTrue();
        assertThat(Checkpoints.sha256(Path.of(path.group(1)))).isEqualTo(sha.group(1));
        assertThat(Files.exists(dir.resolve("demo/.shears-demo"))).isTrue();
    }
}
