package dev.shears.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Every PromQL expression Shears ships: the dashboards' panel targets and the alert rules. */
final class Expressions {
    static final Path DIR = Path.of("").toAbsolutePath();
    static final Path DASHBOARDS = DIR.resolve("grafana/dashboards");
    static final Path RULES = DIR.resolve("prometheus/rules");
    private static final Pattern METRIC = Pattern.compile("\\b(shears_[a-z0-9_]+|up)\\b(?!\\s*\\()");

    /** Where an expression comes from, e.g. {@code shears.json: Step duration [B]} or {@code rule ShearsWorkerDown}. */
    record Expression(String origin, String promql, boolean rule) {
        /** The expression with the dashboards' variables set to "all". */
        String resolved() {
            return promql.replace("$job", ".*").replace("$worker", ".*");
        }

        /** The metric names it reads. */
        List<String> metrics() {
            TreeSet<String> names = new TreeSet<>();
            Matcher m = METRIC.matcher(promql);
            while (m.find()) {
                names.add(m.group(1));
            }
            return List.copyOf(names);
        }

        @Override
        public String toString() {
            return origin;
        }
    }

    private Expressions() {}

    static List<Path> dashboardFiles() throws IOException {
        try (Stream<Path> files = Files.list(DASHBOARDS)) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }

    static List<Path> ruleFiles() throws IOException {
        try (Stream<Path> files = Files.list(RULES)) {
            return files.filter(f -> f.toString().endsWith(".yml")).sorted().toList();
        }
    }

    static List<Expression> all() throws IOException {
        List<Expression> all = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (Path file : dashboardFiles()) {
            for (JsonNode panel : json.readTree(file.toFile()).path("panels")) {
                for (JsonNode target : panel.path("targets")) {
                    all.add(new Expression(file.getFileName() + ": " + panel.path("title").asText() + " ["
                            + target.path("refId").asText() + "]", target.path("expr").asText(), false));
                }
            }
        }
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        for (Path file : ruleFiles()) {
            for (JsonNode group : yaml.readTree(file.toFile()).path("groups")) {
                for (JsonNode rule : group.path("rules")) {
                    String name = rule.has("alert") ? rule.path("alert").asText() : rule.path("record").asText();
                    all.add(new Expression("rule " + name, rule.path("expr").asText(), true));
                }
            }
        }
        return all;
    }
}
