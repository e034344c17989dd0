package dev.shears.deploy.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.Rejection;
import dev.shears.common.recipe.Problem;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.recipe.RecipeException;
import dev.shears.scheduler.SchedulerConfig;
import dev.shears.scheduler.cli.SchedulerCommand;
import dev.shears.trainer.cli.WorkerCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * The security properties that need no running pipeline: names that cannot become paths outside their directory,
 * Kafka security settings that reach the clients, no Java deserialization in Shears' own code and the deserialization
 * filter in every entry point, services and benchmarks (model files as hostile input are {@link ModelFilesTest}), size
 * limits that hold. The HTTP API's token and bind address are tested on a running scheduler in {@link SchedulerHttpTest}.
 */
class SecurityTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** Kafka's default {@code message.max.bytes} (broker) and {@code max.message.bytes} (topic). */
    static final int KAFKA_DEFAULT_MESSAGE_MAX_BYTES = 1024 * 1024 + 12;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"../x", "..", "a/../../etc", "a/b", "a\\\\b", ".hidden", "a\\u0000b", "a\\u0007b", "a\\nb",
            "UPPER", "-lead"})
    void aJobOrPublicationNameThatIsNotOneSafePathSegmentIsRefused(String name) {
        String job = "job: \"%s\"\nmodel: lenet5\n".formatted(name);
        assertThat(problems(job)).as("job %s", name).anyMatch(p -> p.field().equals("job"));
        String publish = "job: ok\nmodel: lenet5\npublish:\n  name: \"%s\"\n".formatted(name);
        assertThat(problems(publish)).as("publish.name %s", name).anyMatch(p -> p.field().equals("publish.name"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"../x", "..", "a/b", ".x", "a\\u0000b", "a\\u001bb", "A"})
    void anEventWhoseJobIdIsNotOneSafePathSegmentIsADeadLetterAndCannotBeBuilt(String jobId) {
        String json = """
                {"type":"JobStarted","version":1,"eventId":"00000000-0000-4000-8000-000000000001","jobId":"%s","seq":0,
                 "time":"2026-11-23T12:00:00Z","payload":{"recipeYaml":"job: x","steps":1}}""".formatted(jobId);
        Decoded d = new EventCodec().decode(json.getBytes(StandardCharsets.UTF_8));
        assertThat(d).isInstanceOfSatisfying(Rejection.class, r -> {
            assertThat(r.reason()).isEqualTo(Rejection.Reason.BAD_JOB_ID);
            assertThat(r.field()).isEqualTo("jobId");
        });
        String raw = jobId.replace("\\u0000", "\u0000").replace("\\u001b", "\u001b");
        assertThatThrownBy(() -> Event.of(raw, 0, new JobStarted("job: x", 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shearsOwnCodeDeserializesNoJavaObjects() throws IOException {
        Pattern unsafe = Pattern.compile("ObjectInputStream|\\.readObject\\(|XMLDecoder|enableDefaultTyping"
                + "|activateDefaultTyping|SerializationUtils\\.deserialize|@JsonTypeInfo\\(use\\s*=\\s*JsonTypeInfo\\.Id\\.CLASS");
        List<String> found = new ArrayList<>();
        List<Path> sources = productionSources();
        for (Path f : sources) {
            List<String> lines = Files.readAllLines(f);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                boolean comment = line.startsWith("*") || line.startsWith("/*") || line.startsWith("//");
                if (!comment && unsafe.matcher(line).find()) {
                    found.add(ROOT.relativize(f) + ":" + (i + 1) + ": " + line);
                }
            }
        }
        assertThat(sources).as("production sources scanned under %s", ROOT).hasSizeGreaterThan(100);
        assertThat(found).as("Java deserialization in Shears' own code (DL4J's is behind SerialFilter and ModelZips)")
                .isEmpty();
    }

    @Test
    void everyEntryPointInstallsTheDeserializationFilterFirst() throws IOException {
        Pattern main = Pattern.compile("public static void main\\(String\\[\\] args\\)[^{]*\\{\\s*(\\S[^;]*;)");
        List<String> entryPoints = new ArrayList<>();
        for (Path f : productionSources()) {
            Matcher m = main.matcher(Files.readString(f));
            if (m.find()) {
                entryPoints.add(ROOT.relativize(f) + ": " + m.group(1));
            }
        }
        assertThat(entryPoints).as("entry points, services and benchmarks").hasSizeGreaterThanOrEqualTo(14)
                .allSatisfy(e -> assertThat(e).endsWith(": SerialFilter.install();"));
    }

    private static List<Path> productionSources() throws IOException {
        try (Stream<Path> all = Files.walk(ROOT)) {
            return all.filter(p -> p.toString().endsWith(".java")).filter(p -> p.toString().contains("/src/main/java/"))
                    .filter(p -> !p.toString().contains("/target/")).toList();
        }
    }

    @Test
    void anEventOverTheLimitIsRefusedBeforeParsingAndTheLimitIsUnderKafkasDefault() {
        assertThat(EventCodec.MAX_BYTES).isEqualTo(1 << 20).isLessThan(KAFKA_DEFAULT_MESSAGE_MAX_BYTES);
        byte[] big = ("{\"type\":\"JobStarted\",\"pad\":\"" + "a".repeat(EventCodec.MAX_BYTES) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        Decoded d = new EventCodec().decode(big);
        assertThat(d).isInstanceOfSatisfying(Rejection.class,
                r -> assertThat(r.reason()).isEqualTo(Rejection.Reason.TOO_LARGE));
        assertThatThrownBy(() -> new JobStarted("job: x\n#" + "\u20ac".repeat(200_000), 1)) // 3 bytes each
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bytes of UTF-8");
        Event tooLarge = Event.of("x", 0, new JobStarted("job: x\n#" + "\"".repeat(524_270), 1)); // 2 bytes in JSON
        assertThatThrownBy(() -> new EventCodec().encode(tooLarge)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Integer.toString(EventCodec.MAX_BYTES));
    }

    @Test
    void aRecipeOverTheLimitIsRefusedWithItsSize() {
        String huge = "job: x\nmodel: lenet5\n#" + "a".repeat(Recipe.MAX_BYTES);
        assertThat(problems(huge))
                .anySatisfy(p -> assertThat(p.message()).contains(Integer.toString(Recipe.MAX_BYTES)));
    }

    @Test
    void theSchedulersHttpApiBindsToLoopbackByDefault() {
        SchedulerCommand command = new SchedulerCommand();
        new CommandLine(command).parseArgs("--bootstrap", "127.0.0.1:9092");
        assertThat(SchedulerConfig.DEFAULT_HOST).isEqualTo("127.0.0.1");
        assertThat(new CommandLine(command).getCommandSpec().findOption("--http-host").defaultValue())
                .isEqualTo("127.0.0.1");
        assertThat(SchedulerConfig.of("127.0.0.1:9092").http().loopbackOnly()).isTrue();
        assertThat(SchedulerConfig.of("127.0.0.1:9092").withHttp("0.0.0.0", 0).http().loopbackOnly()).isFalse();
        assertThat(new CommandLine(new WorkerCommand()).getCommandSpec().findOption("--metrics-host").defaultValue())
                .isEqualTo("127.0.0.1");
    }

    @Test
    void aSchedulerWithAnUnusableTokenFileDoesNotStart() throws IOException {
        for (String content : List.of("short", "", "with space 0123456789abcdef")) {
            Path file = Files.writeString(dir.resolve("token"), content);
            StringWriter err = new StringWriter();
            int code = new CommandLine(new SchedulerCommand()).setErr(new PrintWriter(err, true))
                    .execute("--bootstrap", "127.0.0.1:9", "--token-file", file.toString());
            assertThat(code).as("token %s: %s", content, err).isEqualTo(2);
            assertThat(err.toString()).contains(file.toString()).contains("fix:");
            if (!content.isEmpty()) {
                assertThat(err.toString()).doesNotContain(content);
            }
        }
        StringWriter err = new StringWriter();
        int code = new CommandLine(new SchedulerCommand()).setErr(new PrintWriter(err, true))
                .execute("--bootstrap", "127.0.0.1:9", "--token-file", dir.resolve("absent").toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("absent").contains("fix:");
    }

    @Test
    void theSchedulerPassesItsKafkaConfigToItsClientsWhichFailWithKafkasError() throws IOException {
        Path config = sslWithoutTruststore();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new SchedulerCommand()).setErr(new PrintWriter(err, true))
                .setOut(new PrintWriter(new StringWriter())).execute("--bootstrap", "127.0.0.1:9", "--http-port", "0",
                        "--kafka-config", config.toString());
        assertThat(code).as("exit code; stderr: %s", err).isEqualTo(1);
        assertThat(err.toString()).contains("scheduler did not start").contains("missing-truststore.jks");
    }

    @Test
    void theWorkerPassesItsKafkaConfigToItsClientsWhichFailWithKafkasError() throws IOException {
        Path config = sslWithoutTruststore();
        String err = stderrOf(() -> new CommandLine(new WorkerCommand()).execute("--bootstrap", "127.0.0.1:9",
                "--metrics-port", "-1", "--work-dir", dir.resolve("work").toString(), "--kafka-config",
                config.toString()), 1);
        assertThat(err).contains("missing-truststore.jks");
    }

    @Test
    void aKafkaConfigCannotWeakenTheDeliveryGuarantees() throws IOException {
        Path config = Files.writeString(dir.resolve("weak.properties"), "enable.idempotence=false\n");
        StringWriter err = new StringWriter();
        int code = new CommandLine(new SchedulerCommand()).setErr(new PrintWriter(err, true))
                .execute("--bootstrap", "127.0.0.1:9", "--kafka-config", config.toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("enable.idempotence").contains("weak.properties").contains("fix:");
        String workerErr = stderrOf(() -> new CommandLine(new WorkerCommand()).execute("--bootstrap", "127.0.0.1:9",
                "--metrics-port", "-1", "--kafka-config", config.toString()), 2);
        assertThat(workerErr).contains("enable.idempotence");
    }

    /** A Kafka config asking for TLS with a truststore that does not exist: a client fails as it is created. */
    private Path sslWithoutTruststore() throws IOException {
        return Files.writeString(dir.resolve("kafka.properties"), "security.protocol=SSL\nssl.truststore.location="
                + dir.resolve("missing-truststore.jks") + "\nssl.truststore.password=changeit\n");
    }

    private static String stderrOf(java.util.function.IntSupplier run, int expectedCode) {
        PrintStream old = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        int code;
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            code = run.getAsInt();
        } finally {
            System.setErr(old);
        }
        String err = buffer.toString(StandardCharsets.UTF_8);
        assertThat(code).as("exit code; stderr: %s", err).isEqualTo(expectedCode);
        return err;
    }

    private static List<Problem> problems(String yaml) {
        try {
            Recipe.parse(yaml);
        } catch (RecipeException e) {
            return e.problems();
        }
        throw new AssertionError("recipe accepted: " + yaml);
    }
}
