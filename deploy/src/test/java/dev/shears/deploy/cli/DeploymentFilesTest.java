package dev.shears.deploy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.shears.scheduler.cli.SchedulerCli;
import dev.shears.trainer.cli.TrainerCli;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The deployment files stay true to the code: every container's command line is one its image's command line accepts
 * ({@code shears/scheduler}: {@link SchedulerCli}, {@code shears/trainer} and {@code shears/trainer-cuda}:
 * {@link TrainerCli}), docker-compose accepts the compose file, kustomize builds the Kubernetes manifests, and every
 * probe asks a port the container declares. (Images are not built here: Jib needs a registry or a Docker daemon.)
 */
class DeploymentFilesTest {
    static final Path COMPOSE = Path.of("docker-compose.yml");
    static final Path K8S = Path.of("k8s");
    final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());

    @Test
    void everyComposeServiceOfOursRunsACommandShearsAccepts() throws Exception {
        JsonNode services = yaml.readTree(COMPOSE.toFile()).path("services");
        int ours = 0;
        for (var it = services.fields(); it.hasNext(); ) {
            var service = it.next();
            String image = service.getValue().path("image").asText();
            if (image.startsWith("shears/")) {
                parses(service.getKey(), image, strings(service.getValue().path("command")));
                ours++;
            }
        }
        assertThat(ours).as("scheduler and two trainers").isEqualTo(3);
    }

    @Test
    void everyKubernetesContainerOfOursRunsACommandShearsAcceptsAndProbesADeclaredPort() throws Exception {
        int ours = 0;
        for (JsonNode doc : k8sDocuments()) {
            for (JsonNode container : doc.path("spec").path("template").path("spec").path("containers")) {
                if (!container.path("image").asText().startsWith("shears/")) {
                    continue;
                }
                List<String> args = strings(container.path("args")).stream().map(a -> a.replace("$(POD_NAME)", "pod-0")).toList();
                parses(container.path("name").asText(), container.path("image").asText(), args);
                List<String> ports = container.path("ports").findValuesAsText("name");
                for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                    JsonNode get = container.path(probe).path("httpGet");
                    assertThat(get.path("path").asText()).as("%s %s path", container.path("name"), probe).isEqualTo("/health");
                    assertThat(ports).as("%s %s port", container.path("name"), probe).contains(get.path("port").asText());
                }
                ours++;
            }
        }
        assertThat(ours).as("scheduler and trainer").isEqualTo(2);
    }

    @Test
    void dockerComposeAcceptsTheComposeFile() throws Exception {
        assumeTrue(onPath("docker-compose"), "docker-compose is not installed (./shears test installs it: deploy/setup.sh test)");
        run(List.of("docker-compose", "-f", COMPOSE.toString(), "config", "-q"));
    }

    @Test
    void kustomizeBuildsTheKubernetesManifests() throws Exception {
        assumeTrue(onPath("kubectl"), "kubectl is not installed");
        String out = run(List.of("kubectl", "kustomize", K8S.toString()));
        assertThat(out).contains("kind: Deployment", "kind: StatefulSet", "kind: PersistentVolumeClaim", "nvidia.com/gpu");
    }

    private static void parses(String name, String image, List<String> args) {
        assertThat(args).as("%s command", name).isNotEmpty();
        CommandLine cli = new CommandLine(imageCommandLine(image));
        try {
            cli.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new AssertionError(name + ": image " + image + " rejects " + args + ": " + e.getMessage(), e);
        }
    }

    /** The main class Jib gives each of our images (scheduler/pom.xml, trainer/pom.xml). */
    private static Object imageCommandLine(String image) {
        String repository = image.substring("shears/".length()).replaceFirst(":.*", "");
        return switch (repository) {
            case "scheduler" -> new SchedulerCli();
            case "trainer", "trainer-cuda" -> new TrainerCli();
            default -> throw new AssertionError("no image " + image + " is built here (fix: shears/scheduler,"
                    + " shears/trainer or shears/trainer-cuda)");
        };
    }

    private List<JsonNode> k8sDocuments() throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        try (var files = Files.list(K8S)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                try (YAMLParser parser = new YAMLFactory().createParser(f.toFile())) {
                    ObjectReader reader = yaml.readerFor(JsonNode.class);
                    reader.readValues(parser).forEachRemaining(d -> docs.add((JsonNode) d));
                }
            }
        }
        return docs;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array instanceof ArrayNode a) {
            a.forEach(n -> out.add(n.asText()));
        }
        return out;
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
        assertThat(p.exitValue()).as("%s: %s", command, out).isZero();
        return out;
    }
}
