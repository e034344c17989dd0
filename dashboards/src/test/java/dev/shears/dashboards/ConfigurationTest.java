package dev.shears.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped monitoring configuration is what Prometheus and Grafana accept: {@code promtool check config},
 * {@code promtool check rules}, the alerts' unit tests ({@code promtool test rules}), and dashboards that select their
 * datasource through a {@code $datasource} variable, never through {@code ${DS_...}} import inputs.
 */
class ConfigurationTest {
    static final Path PROMETHEUS = Expressions.DIR.resolve("prometheus");
    /** Where the shipped configuration reads the scheduler's API token: the compose secret. */
    static final String SCHEDULER_TOKEN = "/run/secrets/shears-api-token";

    @Test
    void promtoolAcceptsTheScrapeConfiguration(@TempDir Path dir) throws Exception {
        // The scheduler's token is a secret of the deployment, mounted at run time; promtool wants the file to exist.
        String config = Files.readString(PROMETHEUS.resolve("prometheus.yml"));
        assertThat(config).contains(SCHEDULER_TOKEN);
        Path token = Files.writeString(dir.resolve("token"), "0123456789abcdef0123456789abcdef\n");
        Files.writeString(dir.resolve("prometheus.yml"), config.replace(SCHEDULER_TOKEN, token.toString())
                .replace("rules/*.yml", PROMETHEUS.resolve("rules").toAbsolutePath() + "/*.yml"));
        Promtool r = Promtool.run(dir, "check", "config", "prometheus.yml");
        assertThat(r.status()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: 1 rule files found");
    }

    @Test
    void promtoolAcceptsEveryRuleFile() throws Exception {
        for (Path rules : Expressions.ruleFiles()) {
            Promtool r = Promtool.run(PROMETHEUS, "check", "rules", rules.toString());
            assertThat(r.status()).as(r.output()).isZero();
        }
    }

    @Test
    void everyAlertFiresInItsUnitTestAndStaysQuietOtherwise() throws Exception {
        Promtool r = Promtool.run(PROMETHEUS, "test", "rules", "tests/shears-alerts-test.yml");
        assertThat(r.status()).as(r.output()).isZero();
        String tests = Files.readString(PROMETHEUS.resolve("tests/shears-alerts-test.yml"));
        for (Expressions.Expression e : Expressions.all()) {
            if (e.rule()) {
                assertThat(tests).as("a unit test for %s", e)
                        .contains("alertname: " + e.origin().substring("rule ".length()));
            }
        }
    }

    @Test
    void dashboardsChooseTheirDatasourceThroughAVariable() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertThat(Expressions.dashboardFiles()).isNotEmpty();
        for (Path file : Expressions.dashboardFiles()) {
            String text = Files.readString(file);
            assertThat(text).as("%s has no ${DS_...} import inputs", file).doesNotContain("${DS_")
                    .doesNotContain("__inputs");
            JsonNode dashboard = json.readTree(text);
            assertThat(dashboard.path("templating").path("list").findValuesAsText("name"))
                    .as("%s variables", file).contains("datasource", "job", "worker");
            for (JsonNode panel : dashboard.path("panels")) {
                assertThat(panel.path("datasource").path("uid").asText()).as("%s panel %s", file, panel.path("title"))
                        .isEqualTo("${datasource}");
                assertThat(panel.path("targets")).as("%s panel %s has queries", file, panel.path("title")).isNotEmpty();
                for (JsonNode target : panel.path("targets")) {
                    assertThat(target.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
                }
            }
        }
    }
}
