package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.Topics;
import dev.shears.scheduler.cli.JobsCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The scheduler's HTTP API under generated bad input, and its bearer token, on a real broker: bad recipes (unknown
 * fields, wrong types, out-of-range and huge values, invalid YAML), huge bodies, bad paths and unknown methods are all
 * refused with a 4xx that names the field where there is one, never a 5xx, and the scheduler serves afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SchedulerHttpTest extends BrokerTestBase {
    static final String TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    /** Every field of a recipe, with a valid value: the mutations start from here. */
    static final Map<String, String> FIELDS = new LinkedHashMap<>();

    static {
        FIELDS.put("model", "lenet5");
        FIELDS.put("data", "fashion-mnist-subset");
        FIELDS.put("training.updater", "nesterovs");
        FIELDS.put("training.learningRate", "0.01");
        FIELDS.put("training.momentum", "0.9");
        FIELDS.put("training.batchSize", "64");
        FIELDS.put("training.seed", "7");
        FIELDS.put("training.denseEpochs", "1");
        FIELDS.put("pruning.parameters", "[\"conv*.weight\", \"fc*.weight\"]");
        FIELDS.put("pruning.method", "l1_unstructured");
        FIELDS.put("pruning.scope", "global");
        FIELDS.put("schedule.kind", "polynomial");
        FIELDS.put("schedule.initialSparsity", "0.0");
        FIELDS.put("schedule.finalSparsity", "0.8");
        FIELDS.put("schedule.steps", "3");
        FIELDS.put("schedule.power", "3");
        FIELDS.put("fineTune.iterationsPerStep", "300");
        FIELDS.put("accuracyBudget.minAccuracy", "0");
        FIELDS.put("accuracyBudget.policy", "stop");
        FIELDS.put("checkpoints.keepLast", "2");
        FIELDS.put("publish.name", "fuzzed");
    }

    @TempDir
    static Path dir;
    SchedulerService open;
    SchedulerService guarded;
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();
    final AtomicInteger jobs = new AtomicInteger();
    final long seed = Long.getLong("shears.faults.seed", System.nanoTime());
    final Random random = new Random(seed);

    @BeforeAll
    void start() {
        open = SchedulerService.start(SchedulerConfig.of(kafka.bootstrapServers()).withHttp("127.0.0.1", 0)
                .withTopics(new Topics("http-open")).withPartitions(1).withTransactionalId("http-open"));
        guarded = SchedulerService.start(SchedulerConfig.of(kafka.bootstrapServers()).withHttp("127.0.0.1", 0)
                .withTopics(new Topics("http-guarded")).withPartitions(1).withTransactionalId("http-guarded")
                .withToken(ApiToken.of(TOKEN)));
    }

    @AfterAll
    void stop() {
        for (AutoCloseable c : new AutoCloseable[]{guarded, open}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                System.err.println("close: " + e);
            }
        }
    }

    /** A recipe with every field, {@code field} set to {@code value} (or removed when null, or added when new). */
    static String recipe(String job, String field, String value) {
        Map<String, Map<String, String>> sections = new TreeMap<>();
        StringBuilder top = new StringBuilder("job: " + job + "\n");
        Map<String, String> fields = new LinkedHashMap<>(FIELDS);
        fields.put(field, value);
        for (Map.Entry<String, String> e : fields.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            int dot = e.getKey().indexOf('.');
            if (dot < 0) {
                top.append(e.getKey()).append(": ").append(e.getValue()).append('\n');
            } else {
                sections.computeIfAbsent(e.getKey().substring(0, dot), k -> new LinkedHashMap<>())
                        .put(e.getKey().substring(dot + 1), e.getValue());
            }
        }
        sections.forEach((name, entries) -> {
            top.append(name).append(":\n");
            entries.forEach((k, v) -> top.append("  ").append(k).append(": ").append(v).append('\n'));
        });
        return top.toString();
    }

    @Test
    void generatedBadRecipesAreRefusedNamingTheFieldAndNeverA5xx() throws Exception {
        System.out.println("HTTP fuzz seed " + seed + " (replay with -Dshears.faults.seed=" + seed + ")");
        assertThat(post(open, recipe("fuzz-valid", "model", "lenet5")).statusCode()).as("the unmutated recipe")
                .isEqualTo(201);
        List<String> wrongTypes = List.of("{a: 1}", "[1, 2]", "{}");
        List<String> badValues = List.of("-1", "1e308", "-1e308", "99999999999999999999999", ".nan", ".inf", "\"\"",
                "\"" + "x".repeat(100_000) + "\"", "\"a\\u0000b\"", "~", "true", "\"../../etc/passwd\"");
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> accepted = new ArrayList<>();
        int requests = 0;
        for (String field : FIELDS.keySet()) {
            for (String value : wrongTypes) {
                if (field.equals("pruning.parameters") && value.startsWith("[")) {
                    continue; // a list is right here, and a YAML scalar such as 1 reads as the glob "1"
                }
                HttpResponse<String> r = post(open, recipe("fuzz-" + jobs.incrementAndGet(), field, value));
                requests++;
                outcomes.merge(Integer.toString(r.statusCode()), 1, Integer::sum);
                assertThat(r.statusCode()).as("%s: %s -> %s", field, value, r.body()).isEqualTo(400);
                assertThat(problemFields(r)).as("%s: %s", field, r.body()).anyMatch(f -> f.startsWith(field));
            }
            for (String value : badValues) {
                HttpResponse<String> r = post(open, recipe("fuzz-" + jobs.incrementAndGet(), field, value));
                requests++;
                outcomes.merge(Integer.toString(r.statusCode()), 1, Integer::sum);
                assertThat(r.statusCode()).as("%s: %.60s -> %s", field, value, r.body()).isIn(201, 400);
                if (r.statusCode() == 201) {
                    accepted.add(field + "=" + (value.length() > 20 ? value.substring(0, 20) + "..." : value));
                }
                if (r.statusCode() == 400) {
                    assertThat(problemFields(r)).as("%s: %.60s: %s", field, value, r.body())
                            .anyMatch(f -> f.startsWith(field));
                }
            }
        }
        // Unknown fields, at the top and in every section, with random names.
        for (String section : List.of("", "training.", "pruning.", "schedule.", "fineTune.", "accuracyBudget.",
                "checkpoints.", "publish.")) {
            String name = section + randomName();
            HttpResponse<String> r = post(open, recipe("fuzz-" + jobs.incrementAndGet(), name, "1"));
            requests++;
            outcomes.merge(Integer.toString(r.statusCode()), 1, Integer::sum);
            assertThat(r.statusCode()).as("unknown %s: %s", name, r.body()).isEqualTo(400);
            assertThat(problemFields(r)).as("unknown %s: %s", name, r.body()).contains(name);
        }
        // Missing required fields.
        HttpResponse<String> missing = post(open, recipe("fuzz-" + jobs.incrementAndGet(), "model", null));
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(problemFields(missing)).contains("model");
        // Bad job ids: path traversal, control characters.
        for (String job : List.of("\"../x\"", "\"a/b\"", "\"a\\u0001b\"", "\".x\"", "\"" + "a".repeat(65) + "\"")) {
            HttpResponse<String> r = post(open, recipe(job, "model", "lenet5"));
            requests++;
            assertThat(r.statusCode()).as("job %s: %s", job, r.body()).isEqualTo(400);
            assertThat(problemFields(r)).contains("job");
        }
        // Invalid YAML and random bytes.
        List<byte[]> garbage = new ArrayList<>();
        for (String text : List.of("job: [unclosed", "job: x\n  model: : :", "\tjob: x", "- a\n- b", "42", "null",
                "job: &a [*a]", "{\"job\": ", "job: x\njob: y\nmodel: lenet5", "!!java.lang.Runtime {}",
                "!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://x\"]]]]")) {
            garbage.add(text.getBytes(StandardCharsets.UTF_8));
        }
        for (int i = 0; i < 40; i++) {
            byte[] b = new byte[1 + random.nextInt(2000)];
            random.nextBytes(b);
            garbage.add(b);
        }
        for (byte[] body : garbage) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(open.uri().resolve("/jobs"))
                    .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build(), HttpResponse.BodyHandlers.ofString());
            requests++;
            outcomes.merge(Integer.toString(r.statusCode()), 1, Integer::sum);
            assertThat(r.statusCode()).as("%.80s -> %s", new String(body, StandardCharsets.UTF_8), r.body())
                    .isEqualTo(400);
        }
        // Huge bodies.
        for (int size : new int[]{dev.shears.common.recipe.Recipe.MAX_BYTES + 1, 8 << 20}) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(open.uri().resolve("/jobs"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(("job: x\n#" + "a".repeat(size)).getBytes(
                            StandardCharsets.UTF_8)))
                    .build(), HttpResponse.BodyHandlers.ofString());
            requests++;
            outcomes.merge(Integer.toString(r.statusCode()), 1, Integer::sum);
            assertThat(r.statusCode()).as("a body of %d bytes: %s", size, r.body()).isEqualTo(413);
        }
        System.out.printf("HTTP fuzz: %d requests, status counts %s; accepted as valid: %s%n", requests, outcomes,
                accepted);
        assertThat(outcomes.keySet()).as("no 5xx").noneMatch(s -> s.startsWith("5"));
        assertServes(open);
    }

    /**
     * Data sets and saved models are names under the workers' roots: an absolute path or .. is refused at submission
     * with 400 naming the field, before any worker sees it (a worker checks again by real path).
     */
    @Test
    void aRecipeNamingAPathOutsideTheRootsIsRefusedNamingTheField() throws Exception {
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("/etc", "data");
        refused.put("\"../secrets\"", "data");
        refused.put("mine/../../etc", "data");
        refused.put("\"~/data\"", "data");
        refused.put("{name: /etc, validation: 0.1}", "data.name");
        refused.put("{name: \"a/../../b\"}", "data.name");
        for (Map.Entry<String, String> e : refused.entrySet()) {
            HttpResponse<String> r = post(open, recipe("roots-" + jobs.incrementAndGet(), "data", e.getKey()));
            assertThat(r.statusCode()).as("data: %s -> %s", e.getKey(), r.body()).isEqualTo(400);
            assertThat(problemFields(r)).as("data: %s", e.getKey()).containsExactly(e.getValue());
            assertThat(r.body()).contains("fix:");
        }
        for (String model : List.of("file:/etc/passwd", "\"file:../models/x.zip\"", "{name: \"file:/x.zip\"}")) {
            HttpResponse<String> r = post(open, recipe("roots-" + jobs.incrementAndGet(), "model", model));
            assertThat(r.statusCode()).as("model: %s -> %s", model, r.body()).isEqualTo(400);
            assertThat(problemFields(r)).as("model: %s", model).singleElement().asString().startsWith("model");
        }
        assertThat(post(open, recipe("roots-" + jobs.incrementAndGet(), "model", "file:team/lenet5.zip"))
                .statusCode()).as("a name under the model root").isEqualTo(201);
        assertServes(open);
    }

    @Test
    void aRecipeTheWorkersCannotRunIsRefusedAtSubmissionWithEveryProblemNamed() throws Exception {
        HttpResponse<String> unknown = post(open, "job: graph-1\nmodel: resnt\n");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(json.readTree(unknown.body()).path("problems").get(0).path("message").asText())
                .contains("is not a known model").contains("did you mean resnet?");

        HttpResponse<String> sizes = post(open, """
                job: graph-2
                model:
                  name: resnet
                  depth: 21
                  widthMultiplier: 0.5
                pruning:
                  kinds: [conv, attention]
                  structured:
                    groups: channels
                publish:
                  artifact: report
                """);
        assertThat(sizes.statusCode()).as(sizes.body()).isEqualTo(400);
        assertThat(problemFields(sizes)).contains("model.depth", "model.widthMultiplier", "pruning.kinds[1]",
                "pruning.structured.groups", "publish.artifact");
        assertThat(sizes.body()).contains("6n+2").contains("is for mobilenetv2 only");
        assertThat(http.send(HttpRequest.newBuilder(open.uri().resolve("/jobs/graph-2")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).as("nothing was submitted").isEqualTo(404);
    }

    @Test
    void badPathsAndUnknownMethodsAre4xx() throws Exception {
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> paths = List.of("/jobs/../x", "/jobs/%2e%2e/x", "/jobs/..%2fx", "/jobs/a/b/c", "/%00",
                "/jobs/x%0d%0aSet-Cookie:a", "/jobs/" + "a".repeat(3000), "/jobs/%ff%fe", "/jobs//cancel", "/..",
                "/metrics/x", "/health/../jobs", "/JOBS", "/jobs/x/cancel/y");
        for (String path : paths) {
            for (String method : List.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO")) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(open.uri() + path))
                        .method(method, HttpRequest.BodyPublishers.ofString("x")).build(),
                        HttpResponse.BodyHandlers.ofString());
                outcomes.merge(method + " " + r.statusCode(), 1, Integer::sum);
                assertThat(r.statusCode()).as("%s %s -> %s", method, path, r.body()).isBetween(400, 499);
            }
        }
        for (String path : List.of("/jobs", "/jobs/fuzz-valid", "/jobs/fuzz-valid/cancel", "/metrics", "/health")) {
            for (String method : List.of("PUT", "DELETE", "PATCH", "FOO")) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(open.uri() + path))
                        .method(method, HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                outcomes.merge(method + " " + r.statusCode(), 1, Integer::sum);
                assertThat(r.statusCode()).as("%s %s -> %s", method, path, r.body()).isBetween(400, 499);
            }
        }
        System.out.println("bad paths and methods: " + outcomes);
        assertServes(open);
    }

    @Test
    void withATokenEveryRequestButHealthNeedsIt() throws Exception {
        URI base = guarded.uri();
        for (String path : List.of("/jobs", "/jobs/x", "/metrics")) {
            HttpResponse<String> none = http.send(HttpRequest.newBuilder(base.resolve(path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(none.statusCode()).as("GET %s without a token", path).isEqualTo(401);
            assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v)
                    .startsWith("Bearer"));
            assertThat(none.body()).contains("fix:").doesNotContain(TOKEN);
            HttpResponse<String> wrong = http.send(HttpRequest.newBuilder(base.resolve(path))
                    .header("Authorization", "Bearer " + TOKEN.replace('a', 'b')).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(wrong.statusCode()).as("GET %s with a wrong token", path).isEqualTo(401);
        }
        HttpResponse<String> submit = http.send(HttpRequest.newBuilder(base.resolve("/jobs"))
                .POST(HttpRequest.BodyPublishers.ofString(recipe("guarded-1", "model", "lenet5"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(submit.statusCode()).as("POST without a token").isEqualTo(401);
        assertThat(http.send(HttpRequest.newBuilder(base.resolve("/jobs/guarded-1/cancel")).POST(
                HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(401);
        assertThat(http.send(HttpRequest.newBuilder(base.resolve("/health")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).as("/health stays open for probes").isEqualTo(200);
        for (String path : List.of("/jobs", "/metrics")) {
            assertThat(http.send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + TOKEN)
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).as("GET %s with the token", path)
                    .isEqualTo(200);
        }
        HttpResponse<String> authorised = http.send(HttpRequest.newBuilder(base.resolve("/jobs"))
                .header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(recipe("guarded-2", "model", "lenet5"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(authorised.statusCode()).as("POST with the token: %s", authorised.body()).isEqualTo(201);
    }

    @Test
    void theCliClientsSendTheTokenFromAFile() throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("token"), TOKEN + "\n");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int withToken = new CommandLine(new JobsCommand()).setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute("--scheduler", guarded.uri().toString(), "--token-file", tokenFile.toString());
        assertThat(withToken).as("jobs with --token-file: %s %s", out, err).isZero();
        StringWriter refused = new StringWriter();
        int without = new CommandLine(new JobsCommand()).setOut(new PrintWriter(new StringWriter(), true))
                .setErr(new PrintWriter(refused, true)).execute("--scheduler", guarded.uri().toString());
        assertThat(without).as("jobs without a token").isNotZero();
        assertThat(refused.toString()).contains("401");
    }

    private void assertServes(SchedulerService s) throws IOException, InterruptedException {
        assertThat(http.send(HttpRequest.newBuilder(s.uri().resolve("/health")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        HttpResponse<String> r = post(s, recipe("after-" + jobs.incrementAndGet(), "model", "lenet5"));
        assertThat(r.statusCode()).as("a valid recipe after the bad ones: %s", r.body()).isEqualTo(201);
    }

    private HttpResponse<String> post(SchedulerService s, String yaml) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(s.uri().resolve("/jobs")).header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(yaml)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private List<String> problemFields(HttpResponse<String> r) throws IOException {
        JsonNode body = json.readTree(r.body());
        List<String> fields = new ArrayList<>();
        body.path("problems").forEach(p -> fields.add(p.path("field").asText()));
        return fields;
    }

    private String randomName() {
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
        StringBuilder b = new StringBuilder("x");
        for (int i = 0, n = 1 + random.nextInt(20); i < n; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }
}
