package dev.shears.common.recipe;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.shears.common.text.Quoted;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Reads YAML into a small tree that keeps every scalar's text as written, so that {@code 2:4},
 * {@code 1e5} or {@code yes} can be read as text where the schema wants text. Jackson's YAML
 * parser is safe (it builds no objects from tags); on top of it this refuses aliases and explicit
 * tags, limits nesting, and reports duplicate keys.
 */
final class YamlTree {

    /** Nesting deeper than any recipe needs (it has three levels). */
    static final int MAX_DEPTH = 16;

    private static final YAMLFactory FACTORY = factory();

    /** A YAML node. */
    sealed interface Node permits Mapping, Sequence, Scalar, Invalid {
    }

    /** A mapping, in document order. */
    record Mapping(Map<String, Node> entries) implements Node {
    }

    record Sequence(List<Node> items) implements Node {
    }

    /**
     * A scalar as written.
     *
     * @param token how YAML resolved it: {@code VALUE_STRING}, {@code VALUE_NUMBER_INT},
     *     {@code VALUE_NUMBER_FLOAT}, {@code VALUE_TRUE}, {@code VALUE_FALSE} or {@code VALUE_NULL}
     * @param text the text as written, without quotes
     * @param number the parsed number, or null when not a number or not representable
     */
    record Scalar(JsonToken token, String text, Number number) implements Node {
        boolean isNull() {
            return token == JsonToken.VALUE_NULL;
        }
    }

    /** A node already reported as a problem (an alias, a tagged value, a duplicate key). */
    record Invalid(String shown) implements Node {
    }

    private YamlTree() {}

    /** A node as it reads in YAML, for messages: text quoted, other scalars bare, collections elided. */
    static String show(Node node) {
        if (node instanceof Scalar s) {
            return s.token() == JsonToken.VALUE_STRING ? Quoted.of(s.text()) : s.text();
        }
        if (node instanceof Sequence seq) {
            return seq.items().isEmpty() ? "[]" : "[...]";
        }
        if (node instanceof Mapping m) {
            return m.entries().isEmpty() ? "{}" : "{...}";
        }
        return ((Invalid) node).shown();
    }

    /**
     * Parses one YAML document; syntax errors and unsupported features become problems.
     *
     * @return the root, or null when the document is empty or cannot be parsed
     */
    static Node parse(String yaml, Problems problems) {
        try (JsonParser parser = FACTORY.createParser(yaml)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return null;
            }
            Node root = read(parser, "", 0, problems);
            if (parser.nextToken() != null) {
                problems.document("---", "the recipe holds more than one YAML document: a recipe is one"
                        + " (fix: remove the --- line and what follows, or split it into files)");
            }
            return root;
        } catch (StreamConstraintsException e) {
            problems.document("", "the recipe is nested more than " + (MAX_DEPTH + 4) + " levels deep: a recipe has"
                    + " three (fix: see the recipe schema)");
            return null;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            String why = reason(e);
            problems.document(where.isEmpty() ? "" : where.substring(4), "the recipe is not valid YAML" + where
                    + ": " + why + " (fix: check the indentation and quoting there; every key is"
                    + " key: value, lists are [a, b] or lines starting with -)");
            return null;
        } catch (IOException | RuntimeException e) {
            problems.document("", "the recipe could not be read as YAML: " + e.getMessage());
            return null;
        }
    }

    /** SnakeYAML's explanation without its source excerpts: the lines that do not start with a space. */
    private static String reason(JsonProcessingException e) {
        String original = e.getOriginalMessage();
        if (original == null) {
            return e.getClass().getSimpleName();
        }
        if (original.startsWith("Expected a field name")) {
            return "a key is a list or mapping, not a name";
        }
        return String.join(", ", original.lines().filter(l -> !l.isBlank() && !l.startsWith(" ")).toList());
    }

    private static Node read(JsonParser parser, String path, int depth, Problems problems) throws IOException {
        YAMLParser yaml = (YAMLParser) parser;
        JsonToken token = parser.currentToken();
        String where = path.isEmpty() ? "the recipe" : path;
        if (yaml.isCurrentAlias()) {
            String shown = "*" + parser.getText();
            problems.add(where, new Problems.Raw(shown), "is a YAML alias: recipes do not use anchors and"
                    + " aliases (fix: write the value out)");
            return new Invalid(shown);
        }
        String tag = parser.getTypeId() instanceof String s ? s : null;
        if (tag != null) {
            if (token.isStructStart()) {
                parser.skipChildren();
            }
            String shown = tag.replace("tag:yaml.org,2002:", "!!");
            problems.add(where, new Problems.Raw(shown), "has an explicit YAML tag: recipes do not use tags"
                    + " (fix: remove " + shown + ")");
            return new Invalid(shown);
        }
        if (depth > MAX_DEPTH) {
            parser.skipChildren();
            problems.add(where, new Problems.Raw("..."), "is nested more than " + MAX_DEPTH
                    + " levels deep: a recipe has three (fix: see the recipe schema)");
            return new Invalid("...");
        }
        switch (token) {
            case START_OBJECT : {
                Map<String, Node> entries = new LinkedHashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String key = parser.currentName();
                    String child = path.isEmpty() ? key : path + "." + key;
                    parser.nextToken();
                    Node value = read(parser, child, depth + 1, problems);
                    if (entries.containsKey(key)) {
                        problems.add(child, new Problems.Raw(show(value)), "repeats a key given"
                                + " before: each key may appear once (fix: keep one " + key + ")");
                    } else {
                        entries.put(key, value);
                    }
                }
                return new Mapping(Collections.unmodifiableMap(entries));
            }
            case START_ARRAY : {
                List<Node> items = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    items.add(read(parser, path + "[" + items.size() + "]", depth + 1, problems));
                }
                return new Sequence(List.copyOf(items));
            }
            default : {
                Number number = null;
                if (token.isNumeric()) {
                    try {
                        number = parser.getNumberValue();
                    } catch (IOException | RuntimeException e) {
                        number = special(parser.getText());
                    }
                }
                return new Scalar(token, parser.getText(), number);
            }
        }
    }

    /** YAML's {@code .inf}, {@code -.inf} and {@code .nan}, which Jackson does not parse. */
    private static Double special(String text) {
        switch (text) {
            case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF" :
                return Double.POSITIVE_INFINITY;
            case "-.inf", "-.Inf", "-.INF" :
                return Double.NEGATIVE_INFINITY;
            case ".nan", ".NaN", ".NAN" :
                return Double.NaN;
            default :
                return null;
        }
    }

    private static YAMLFactory factory() {
        LoaderOptions loader = new LoaderOptions();
        loader.setCodePointLimit(Recipe.MAX_BYTES + 1);
        loader.setMaxAliasesForCollections(0);
        loader.setNestingDepthLimit(MAX_DEPTH + 4);
        loader.setAllowRecursiveKeys(false);
        loader.setProcessComments(false);
        return YAMLFactory.builder()
                .loaderOptions(loader)
                .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL) // "key:" is null, as in new YAMLFactory()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_DEPTH + 4)
                        .maxStringLength(Recipe.MAX_BYTES)
                        .maxNumberLength(64)
                        .build())
                .build();
    }
}
