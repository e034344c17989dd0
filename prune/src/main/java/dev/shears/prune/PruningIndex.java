package dev.shears.prune;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.nd4j.shade.jackson.core.JsonParser;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.core.JsonToken;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * The index of a pruned model's state, the entry {@value #ENTRY} that {@link PrunedModel} adds to DL4J's model zip: its
 * format and, per pruned parameter, the entry holding the parameter's mask and pruned values, and how many bytes that
 * entry holds. Read from bytes alone, without ND4J, so that {@link ModelZips} checks every state entry against it
 * before DL4J or Shears allocates anything for the model.
 */
final class PruningIndex {
    static final String ENTRY = "shears-pruning.json";
    /** Where the first version of {@link PrunedModel} put the index (same format); still read. */
    static final String LEGACY_ENTRY = "shears/pruning.json";
    static final String FORMAT = "shears-pruning";
    static final int VERSION = 1;
    /** The largest index read, in bytes: about 250 bytes per parameter, for at most 1,000 entries in a model zip. */
    static final int MAX_BYTES = 4 << 20;
    /** {"parameters": [{"shape": [...]}]} nests four deep. */
    private static final int MAX_DEPTH = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One pruned parameter as the index records it.
     *
     * @param dtype {@code FLOAT} or {@code DOUBLE}
     * @param shape the parameter's shape in PyTorch's layout, of at most {@link Integer#MAX_VALUE} elements
     * @param bits whether the mask is stored as bits ({@code "bits"}) or whole, in {@code dtype} ({@code "dense"})
     * @param pruned how many elements the mask prunes, in [0, elements]
     * @param entry the zip entry that holds the mask, then {@code _orig} at the pruned positions
     */
    record Parameter(String name, String key, String dtype, long[] shape, boolean bits, long pruned, String entry) {
        /** The parameter's element count. */
        int elements() {
            return Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
        }

        /** Bytes per element of {@code _orig} (and of a dense mask). */
        int elementBytes() {
            return dtype.equals("DOUBLE") ? 8 : 4;
        }

        /** The bytes {@link #entry} holds. */
        long entryBytes() {
            return entryBytes(elements(), elementBytes(), bits, pruned);
        }

        /** The bytes a state entry holds: the mask of {@code n} elements as bits or whole, then the pruned elements. */
        static long entryBytes(long n, int elementBytes, boolean bits, long pruned) {
            return (bits ? (n + 7) / 8 : n * elementBytes) + pruned * elementBytes;
        }

        /** Shape as PrunedModel's messages print it: {@code cnn1.weight[20, 1, 5, 5]}. */
        String described() {
            return name + Arrays.toString(shape);
        }
    }

    /** An index: the kind of model it was written for and its pruned parameters. */
    record Index(String model, List<Parameter> parameters) {
    }

    private PruningIndex() {}

    /** The index entry a zip with these entry names has, the current name first; null when it has none. */
    static String entryIn(Set<String> names) {
        return names.contains(ENTRY) ? ENTRY : names.contains(LEGACY_ENTRY) ? LEGACY_ENTRY : null;
    }

    /**
     * Reads the index {@code entry} of {@code zip} and checks each record's fields, not the entries they name.
     *
     * @param refuse makes the exception thrown for a problem, from a phrase that starts with an entry's name
     */
    static Index read(ZipFile zip, String entry, Function<String, IllegalArgumentException> refuse) throws IOException {
        ZipEntry z = zip.getEntry(entry);
        if (z.getSize() > MAX_BYTES) {
            throw refuse.apply("entry " + entry + " inflates to " + z.getSize() + " bytes, more than the " + MAX_BYTES
                    + " a pruning index may hold");
        }
        byte[] json;
        try (InputStream in = zip.getInputStream(z)) {
            json = in.readNBytes(MAX_BYTES);
        }
        JsonNode index;
        try {
            checkDepth(json, entry, refuse);
            index = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw refuse.apply("entry " + entry + " is not valid JSON: " + e.getOriginalMessage());
        }
        if (!FORMAT.equals(index.path("format").asText()) || index.path("version").asInt(-1) != VERSION) {
            throw refuse.apply("entry " + entry + " has format '" + index.path("format").asText() + "' version "
                    + index.path("version") + ", expected '" + FORMAT + "' version " + VERSION
                    + " (restore it with the Shears version that wrote it)");
        }
        List<Parameter> parameters = new ArrayList<>();
        for (JsonNode e : index.path("parameters")) {
            parameters.add(parameter(e, entry, refuse));
        }
        return new Index(index.path("model").asText(), List.copyOf(parameters));
    }

    private static Parameter parameter(JsonNode e, String indexEntry,
            Function<String, IllegalArgumentException> refuse) {
        String name = e.path("name").asText();
        String entry = e.path("entry").asText();
        String dtype = e.path("dtype").asText();
        String mask = e.path("mask").asText();
        JsonNode shapeNode = e.path("shape");
        String problem = name.isEmpty() || entry.isEmpty() ? "a parameter without a name or an entry"
                : !dtype.equals("FLOAT") && !dtype.equals("DOUBLE") ? name + " with data type '" + dtype
                        + "' (PrunedModel stores FLOAT and DOUBLE)"
                : !mask.equals("bits") && !mask.equals("dense") ? name + " with mask '" + mask
                        + "', expected 'bits' or 'dense'"
                : !shapeNode.isArray() || shapeNode.size() > Nd4jArrays.MAX_RANK ? name + " with shape " + shapeNode
                        + ", expected up to " + Nd4jArrays.MAX_RANK + " sizes"
                : null;
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; problem == null && i < shape.length; i++) {
            shape[i] = shapeNode.get(i).canConvertToLong() && shapeNode.get(i).isIntegralNumber()
                    ? shapeNode.get(i).asLong() : -1;
            problem = shape[i] < 0 ? name + " with shape " + shapeNode + ", expected sizes of 0 or more" : null;
        }
        Parameter p = new Parameter(name, e.path("key").asText(), dtype, shape, mask.equals("bits"),
                e.path("pruned").canConvertToLong() && e.path("pruned").isIntegralNumber() ? e.path("pruned").asLong()
                        : -1,
                entry);
        if (problem == null) {
            try {
                int n = p.elements();
                problem = p.pruned() < 0 || p.pruned() > n ? name + Arrays.toString(shape) + " with " + e.path("pruned")
                        + " pruned, expected 0 to " + n : null;
            } catch (ArithmeticException overflow) {
                problem = name + " with shape " + shapeNode + ", more than " + Integer.MAX_VALUE + " elements";
            }
        }
        if (problem != null) {
            throw refuse.apply("entry " + indexEntry + " records " + problem);
        }
        return p;
    }

    /** Refuses JSON nested deeper than an index is, before a tree parser recurses into it. */
    private static void checkDepth(byte[] json, String entry, Function<String, IllegalArgumentException> refuse)
            throws IOException {
        try (JsonParser parser = JSON.getFactory().createParser(json)) {
            int depth = 0;
            for (JsonToken t; (t = parser.nextToken()) != null;) {
                depth += t.isStructStart() ? 1 : t.isStructEnd() ? -1 : 0;
                if (depth > MAX_DEPTH) {
                    throw refuse.apply(
                            "entry " + entry + " nests JSON deeper than the " + MAX_DEPTH + " levels of an index");
                }
            }
        }
    }
}
