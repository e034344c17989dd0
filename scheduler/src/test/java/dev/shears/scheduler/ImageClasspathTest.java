package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The scheduler image (Jib, profile {@code images}) is this module's runtime classpath: it must stay free of the
 * trainer's machinery. Reads {@code target/runtime-dependencies.txt}, the resolved runtime dependencies that
 * {@code maven-dependency-plugin:list} writes before the tests.
 */
class ImageClasspathTest {
    static final Path DEPENDENCIES = Path.of("target/runtime-dependencies.txt");
    /** {@code groupId:artifactId:type[:classifier]:version:scope}, as the list goal writes each dependency. */
    static final Pattern COORDINATES = Pattern
            .compile("^\\s*([\\w.-]+):([\\w.-]+):[\\w.-]+(?::[\\w.-]+)*:(compile|runtime)\\b.*");

    @Test
    void theSchedulerImageHoldsNoNd4jDl4jJavacppOrKafkaBroker() throws IOException {
        List<String> artifacts = runtimeArtifacts();

        assertThat(artifacts).as("the scheduler's runtime classpath (%s)", DEPENDENCIES)
                .contains("dev.shears:shears-common", "org.apache.kafka:kafka-clients", "info.picocli:picocli")
                .noneMatch(a -> a.startsWith("org.nd4j:"))
                .noneMatch(a -> a.startsWith("org.deeplearning4j:"))
                .noneMatch(a -> a.startsWith("org.bytedeco:"))
                .noneMatch(a -> a.startsWith("org.scala-lang:"))
                .doesNotContain("org.apache.kafka:kafka_2.13", "org.apache.kafka:kafka-server",
                        "org.apache.kafka:kafka-raft", "org.apache.kafka:kafka-metadata", "dev.shears:shears-broker",
                        "dev.shears:shears-trainer", "dev.shears:shears-prune");
    }

    /** {@code groupId:artifactId} of every compile and runtime dependency, transitive ones included. */
    static List<String> runtimeArtifacts() throws IOException {
        assertThat(DEPENDENCIES).as("written by maven-dependency-plugin (mvn -pl scheduler test)").exists();
        return Files.readAllLines(DEPENDENCIES).stream().map(COORDINATES::matcher).filter(Matcher::matches)
                .map(m -> m.group(1) + ":" + m.group(2)).toList();
    }
}
