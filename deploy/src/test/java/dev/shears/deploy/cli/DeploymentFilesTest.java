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
 * probe asks a port the container declares. And they are safe as shipped: ports published on loopback, the
 * scheduler's token and Grafana's password from secrets that are not in the repository, no Prometheus lifecycle API,
 * Kafka reachable only from Shears' pods. (Images are not built here: Jib needs a registry or a Docker daemon.)
 */
class DeploymentFilesTest {
    static final Path COMPOSE = Path.of("docker-compose.yml");
    static final Path K8S = Path.of("k8s");
    static final Path PROMETHEUS_CONFIG = Path.of("../dashboards/prometheus/prometheus.yml");
    final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());

    @Test
    void everyComposeServiceOfOursRunsACommandShearsAccepts() throws Exception {
        JsonNode services = yaml.readTree(COMPOSE.toFile()).path("services");
        int ours = 0;
        for (var it = services.fields(); it.hasNext();) {
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
                List<String> args = strings(container.path("args")).stream().map(a -> a.replace("$(POD_NAME)", "pod-0"))
                        .toList();
                parses(container.path("name").asText(), container.path("image").asText(), args);
                List<String> ports = container.path("ports").findValuesAsText("name");
                for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                    JsonNode get = container.path(probe).path("httpGet");
                    assertThat(get.path("path").asText()).as("%s %s path", container.path("name"), probe)
                            .isEqualTo("/health");
                    assertThat(ports).as("%s %s port", container.path("name"), probe)
                            .contains(get.path("port").asText());
                }
                ours++;
            }
        }
        assertThat(ours).as("scheduler and trainer").isEqualTo(2);
    }

    @Test
    void dockerComposeAcceptsTheComposeFile() throws Exception {
        assumeTrue(onPath("docker-compose"),
                "docker-compose is not installed (./shears test installs it: deploy/setup.sh test)");
        run(List.of("docker-compose", "-f", COMPOSE.toString(), "config", "-q"));
    }

    @Test
    void kustomizeBuildsTheKubernetesManifests() throws Exception {
        assumeTrue(onPath("kubectl"), "kubectl is not installed");
        String out = run(List.of("kubectl", "kustomize", K8S.toString()));
        assertThat(out).contains("kind: Deployment", "kind: StatefulSet", "kind: PersistentVolumeClaim",
                "nvidia.com/gpu");
    }

    @Test
    void composePublishesEveryPortOnLoopbackOnly() throws Exception {
        JsonNode services = yaml.readTree(COMPOSE.toFile()).path("services");
        int published = 0;
        for (var it = services.fields(); it.hasNext();) {
            var service = it.next();
            for (String port : strings(service.getValue().path("ports"))) {
                assertThat(port).as("%s publishes %s", service.getKey(), port).startsWith("127.0.0.1:");
                published++;
            }
        }
        assertThat(published).as("scheduler, Prometheus, Grafana").isEqualTo(3);
        assertThat(services.path("kafka").has("ports")).as("Kafka is not published").isFalse();
    }

    @Test
    void composeGivesTheSchedulerItsTokenFromASecretThatIsNotInTheRepository() throws Exception {
        JsonNode compose = yaml.readTree(COMPOSE.toFile());
        JsonNode scheduler = compose.path("services").path("scheduler");
        List<String> command = strings(scheduler.path("command"));
        assertThat(optionValue(command, "--http-host")).as("in its container, for the other containers")
                .isEqualTo("0.0.0.0");
        String tokenFile = optionValue(command, "--token-file");
        assertThat(tokenFile).startsWith("/run/secrets/");
        String secret = tokenFile.substring("/run/secrets/".length());
        assertThat(strings(scheduler.path("secrets"))).contains(secret);
        assertSecretFileIsNotCommitted(compose, secret);
        assertThat(scheduler.path("restart").asText()).as("it exits when its producer cannot go on")
                .isEqualTo("unless-stopped");
        assertThat(optionValue(command, "--http-timeout")).isNotNull();
    }

    @Test
    void prometheusHasNoLifecycleApiAndScrapesTheSchedulerWithItsToken() throws Exception {
        JsonNode compose = yaml.readTree(COMPOSE.toFile());
        JsonNode prometheus = compose.path("services").path("prometheus");
        assertThat(strings(prometheus.path("command"))).noneMatch(a -> a.contains("enable-lifecycle"))
                .noneMatch(a -> a.contains("enable-admin-api"));
        JsonNode job = null;
        for (JsonNode j : yaml.readTree(PROMETHEUS_CONFIG.toFile()).path("scrape_configs")) {
            if (j.path("job_name").asText().equals("shears-scheduler")) {
                job = j;
            }
        }
        assertThat(job).as("the scheduler's scrape job").isNotNull();
        String credentials = job.path("authorization").path("credentials_file").asText();
        assertThat(credentials).startsWith("/run/secrets/");
        assertThat(strings(prometheus.path("secrets"))).contains(credentials.substring("/run/secrets/".length()));
    }

    @Test
    void grafanaHasNoDefaultPasswordAndNoAnonymousAccess() throws Exception {
        JsonNode compose = yaml.readTree(COMPOSE.toFile());
        JsonNode env = compose.path("services").path("grafana").path("environment");
        assertThat(env.has("GF_SECURITY_ADMIN_PASSWORD")).as("no password in the file").isFalse();
        String file = env.path("GF_SECURITY_ADMIN_PASSWORD__FILE").asText();
        assertThat(file).startsWith("/run/secrets/");
        String secret = file.substring("/run/secrets/".length());
        assertThat(strings(compose.path("services").path("grafana").path("secrets"))).contains(secret);
        assertSecretFileIsNotCommitted(compose, secret);
        assertThat(env.path("GF_AUTH_ANONYMOUS_ENABLED").asText()).isEqualTo("false");
        assertThat(env.path("GF_USERS_ALLOW_SIGN_UP").asText()).isEqualTo("false");
        assertThat(Files.readString(COMPOSE)).doesNotContain("admin/admin");
    }

    @Test
    void kubernetesGivesTheSchedulerItsTokenFromASecretItDoesNotShipAndFencesKafka() throws Exception {
        JsonNode scheduler = null;
        JsonNode pod = null;
        JsonNode kafkaPolicy = null;
        for (JsonNode doc : k8sDocuments()) {
            assertThat(doc.path("kind").asText()).as("no Secret with a value in the manifests").isNotEqualTo("Secret");
            if (doc.path("kind").asText().equals("NetworkPolicy")
                    && doc.path("spec").path("podSelector").path("matchLabels").path("app").asText().equals("kafka")) {
                kafkaPolicy = doc;
            }
            for (JsonNode c : doc.path("spec").path("template").path("spec").path("containers")) {
                if (c.path("name").asText().equals("scheduler")) {
                    scheduler = c;
                    pod = doc.path("spec").path("template");
                }
            }
        }
        assertThat(scheduler).isNotNull();
        List<String> args = strings(scheduler.path("args"));
        assertThat(optionValue(args, "--http-host")).isEqualTo("0.0.0.0");
        Path tokenFile = Path.of(optionValue(args, "--token-file"));
        String volume = null;
        for (JsonNode mount : scheduler.path("volumeMounts")) {
            if (tokenFile.startsWith(mount.path("mountPath").asText())) {
                volume = mount.path("name").asText();
            }
        }
        assertThat(volume).as("the token file is on a mounted volume").isNotNull();
        boolean fromSecret = false;
        for (JsonNode v : pod.path("spec").path("volumes")) {
            fromSecret |= v.path("name").asText().equals(volume) && v.has("secret");
        }
        assertThat(fromSecret).as("volume %s is a Secret", volume).isTrue();
        assertThat(pod.path("metadata").path("annotations").path("prometheus.io/scrape").asText())
                .as("an annotation scrape would come without the token").isNotEqualTo("true");

        assertThat(kafkaPolicy).as("a NetworkPolicy for Kafka").isNotNull();
        List<String> from = kafkaPolicy.path("spec").path("ingress").findValues("values").stream()
                .flatMap(v -> strings(v).stream()).toList();
        assertThat(from).containsExactlyInAnyOrder("kafka", "shears-scheduler", "shears-trainer");
    }

    /** The compose secret {@code name} is a file under {@code secrets/}, which git ignores. */
    private static void assertSecretFileIsNotCommitted(JsonNode compose, String name) throws Exception {
        String file = compose.path("secrets").path(name).path("file").asText();
        assertThat(file).as("secret %s", name).startsWith("./secrets/");
        assertThat(Files.readAllLines(Path.of("../.gitignore"))).as(".gitignore").contains("deploy/secrets/");
    }

    /** The value after {@code option} on a command line, or null. */
    private static String optionValue(List<String> args, String option) {
        int i = args.indexOf(option);
        return i < 0 || i + 1 >= args.size() ? null : args.get(i + 1);
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
