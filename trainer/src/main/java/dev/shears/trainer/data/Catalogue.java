package dev.shears.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.data.RelativeName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a data set directory holds and how to read it: its {@code dataset.yaml} when it has one,
 * else what its files show for the known layouts.
 *
 * <pre>
 * format: idx                  # idx, images or csv
 * shape: [1, 28, 28]           # channels, height, width: checked for idx, the size images are resized to
 * classes: 10                  # optional: else counted from the labels or class folders
 * classNames: [T-shirt/top, Trouser, ...]
 * train: {images: train-images-idx3-ubyte.gz, labels: train-labels-idx1-ubyte.gz}
 * test: {images: t10k-images-idx3-ubyte.gz, labels: t10k-labels-idx1-ubyte.gz}
 * normalization: {mean: [0.2860], std: [0.3530]}   # optional: else computed from the training split
 * # images: train: train (a directory of class folders), test: test
 * # csv:    train: train.csv, test: test.csv, label: label (a header name or a column index), header: true
 * </pre>
 *
 * <p>Inferred without {@code dataset.yaml}: IDX when the directory holds one
 * {@code *train-images-idx3-ubyte[.gz]} with its {@code *train-labels-idx1-ubyte[.gz]} and one
 * {@code *t10k-…} or {@code *test-…} pair (Fashion-MNIST, MNIST, one EMNIST set); images when it
 * holds {@code train/} and {@code test/} directories of class folders; CSV when it holds
 * {@code train.csv} and {@code test.csv}.
 *
 * @param format        how the files are written
 * @param shape         the shape given, if any
 * @param classes       the number of classes given, if any
 * @param classNames    the class names given, by label; empty when not given
 * @param train         the training split's files
 * @param test          the test split's files
 * @param csv           how CSV files are read (unused for other formats)
 * @param normalization the normalisation given, if any
 */
public record Catalogue(Format format, Optional<InputShape> shape, OptionalInt classes, List<String> classNames,
        SplitFiles train, SplitFiles test, Csv csv, Optional<Normalization> normalization) {

    /** The catalogue file's name in a data set directory. */
    public static final String FILE = "dataset.yaml";
    private static final List<String> KEYS = List.of("format", "shape", "classes", "classNames", "train", "test",
            "normalization", "label", "header");
    private static final Pattern IDX_IMAGES = Pattern.compile("(.*?)(train|t10k|test)-images-idx[34]-ubyte(\\.gz)?");

    /** How a data set is written. */
    public enum Format {
        /** IDX files of unsigned bytes, images and labels apart. */
        IDX,
        /** PNG or JPEG files, one sub-directory per class. */
        IMAGES,
        /** CSV files, a label column and numeric features. */
        CSV;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The files of a split, relative to the data set directory.
     *
     * @param data   the IDX images, the directory of class folders, or the CSV file
     * @param labels the IDX labels; empty for the other formats
     */
    public record SplitFiles(String data, Optional<String> labels) {
    }

    /**
     * How CSV files are read.
     *
     * @param label  the label column: a header name, or a column index from 0 (given as digits)
     * @param header whether the first line names the columns; empty to tell from its cells
     */
    public record Csv(String label, Optional<Boolean> header) {
        /** The {@code label} column if the file has a header, else the first column. */
        public static final Csv DEFAULT = new Csv("label", Optional.empty());
    }

    public Catalogue {
        classNames = List.copyOf(classNames);
    }

    /**
     * Reads {@code dir/dataset.yaml}, or infers the catalogue from the files in {@code dir}.
     *
     * @param shown how messages name the directory (the data set's name)
     * @throws DatasetException when {@code dataset.yaml} is not valid, or nothing can be inferred;
     *                          the message names the file or directory and the fix
     */
    public static Catalogue of(Path dir, String shown) {
        Path file = dir.resolve(FILE);
        if (Files.isRegularFile(file)) {
            return read(file, shown + "/" + FILE);
        }
        return infer(dir, shown);
    }

    private static Catalogue read(Path file, String shown) {
        JsonNode root;
        try {
            if (Files.size(file) > 1 << 20) {
                throw new DatasetException(shown + " is over 1 MiB: a catalogue is a few lines (fix: check the file)");
            }
            root = new YAMLMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new DatasetException(shown + " is not valid YAML: " + e.getMessage().lines().findFirst().orElse("")
                    + " (fix: see the keys in the README's data section)", e);
        }
        Reader r = new Reader(shown);
        if (root == null || !root.isObject()) {
            throw r.problem("", "is not a mapping of keys: it takes " + String.join(", ", KEYS));
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                throw r.problem(key, "is not a known key: a catalogue takes " + String.join(", ", KEYS));
            }
        }
        Format format = r.format(root.get("format"));
        Optional<InputShape> shape = r.shape(root.get("shape"));
        OptionalInt classes = root.has("classes") ? OptionalInt.of(r.integer(root.get("classes"), "classes", 2,
                1 << 16)) : OptionalInt.empty();
        List<String> names = r.strings(root.get("classNames"), "classNames");
        if (classes.isPresent() && !names.isEmpty() && names.size() != classes.getAsInt()) {
            throw r.problem("classNames", "has " + names.size() + " names for " + classes.getAsInt() + " classes");
        }
        SplitFiles train = r.files(root.get("train"), "train", format);
        SplitFiles test = r.files(root.get("test"), "test", format);
        Csv csv = Csv.DEFAULT;
        if (root.has("label") || root.has("header")) {
            if (format != Format.CSV) {
                throw r.problem(root.has("label") ? "label" : "header", "is for CSV data sets only");
            }
            csv = new Csv(root.has("label") ? r.text(root.get("label"), "label") : "label",
                    root.has("header") ? Optional.of(r.bool(root.get("header"), "header")) : Optional.empty());
        }
        Optional<Normalization> normalization = r.normalization(root.get("normalization"));
        return new Catalogue(format, shape, classes, names, train, test, csv, normalization);
    }

    private static Catalogue infer(Path dir, String shown) {
        List<String> names;
        try (Stream<Path> list = Files.list(dir)) {
            names = list.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new DatasetException("data set " + shown + " cannot be listed: " + e.getMessage(), e);
        }
        List<String[]> idx = new ArrayList<>();
        for (String name : names) {
            Matcher m = IDX_IMAGES.matcher(name);
            if (m.matches() && m.group(2).equals("train")) {
                String prefix = m.group(1);
                String trainLabels = either(names, prefix + "train-labels-idx1-ubyte");
                for (String test : List.of("t10k", "test")) {
                    String testImages = either(names, prefix + test + name.substring(prefix.length() + 5)
                            .replaceAll("\\.gz$", ""));
                    String testLabels = either(names, prefix + test + "-labels-idx1-ubyte");
                    if (trainLabels != null && testImages != null && testLabels != null) {
                        idx.add(new String[]{name, trainLabels, testImages, testLabels});
                    }
                }
            }
        }
        if (idx.size() == 1) {
            String[] f = idx.get(0);
            return new Catalogue(Format.IDX, Optional.empty(), OptionalInt.empty(), List.of(),
                    new SplitFiles(f[0], Optional.of(f[1])), new SplitFiles(f[2], Optional.of(f[3])), Csv.DEFAULT,
                    Optional.empty());
        }
        if (idx.size() > 1) {
            throw new DatasetException("data set " + shown + " holds " + idx.size() + " IDX sets ("
                    + idx.stream().map(f -> f[0]).toList() + "): which one is meant cannot be told (fix: write a "
                    + FILE + " naming the train and test files, or put each set in its own directory)");
        }
        if (Files.isDirectory(dir.resolve("train")) && Files.isDirectory(dir.resolve("test"))) {
            return new Catalogue(Format.IMAGES, Optional.empty(), OptionalInt.empty(), List.of(),
                    new SplitFiles("train", Optional.empty()), new SplitFiles("test", Optional.empty()), Csv.DEFAULT,
                    Optional.empty());
        }
        if (names.contains("train.csv") && names.contains("test.csv")) {
            return new Catalogue(Format.CSV, Optional.empty(), OptionalInt.empty(), List.of(),
                    new SplitFiles("train.csv", Optional.empty()), new SplitFiles("test.csv", Optional.empty()),
                    Csv.DEFAULT,
                    Optional.empty());
        }
        throw new DatasetException("data set " + shown + " has no " + FILE + " and is none of the known layouts:"
                + " IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,"
                + " t10k-labels-idx1-ubyte.gz), train/ and test/ directories of class folders of images, or"
                + " train.csv and test.csv (fix: arrange the files so, or write a " + FILE + ")");
    }

    /** {@code base} or {@code base.gz}, whichever {@code names} holds, or null. */
    private static String either(List<String> names, String base) {
        return names.contains(base) ? base : names.contains(base + ".gz") ? base + ".gz" : null;
    }

    /** Reads the values of one catalogue file, each error naming the file and the key. */
    private record Reader(String shown) {

        DatasetException problem(String key, String what) {
            return new DatasetException(shown + (key.isEmpty() ? "" : ": " + key) + " " + what
                    + " (fix: see the README's data section for the keys of " + FILE + ")");
        }

        Format format(JsonNode node) {
            String text = node == null ? null : node.asText();
            for (Format f : Format.values()) {
                if (f.toString().equals(text)) {
                    return f;
                }
            }
            throw problem("format", (node == null ? "is missing" : "\"" + text + "\" is not known") + ": it must be"
                    + " idx, images or csv");
        }

        int integer(JsonNode node, String key, int min, int max) {
            if (node == null || !node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < min
                    || node.asInt() > max) {
                throw problem(key, (node == null ? "null" : node.toString()) + " is not a whole number in [" + min
                        + ", " + max + "]");
            }
            return node.asInt();
        }

        String text(JsonNode node, String key) {
            if (node == null || !node.isValueNode() || node.isNull()) {
                throw problem(key, "must be text");
            }
            return node.asText();
        }

        boolean bool(JsonNode node, String key) {
            if (node == null || !node.isBoolean()) {
                throw problem(key, "must be true or false");
            }
            return node.asBoolean();
        }

        List<String> strings(JsonNode node, String key) {
            if (node == null) {
                return List.of();
            }
            if (!node.isArray()) {
                throw problem(key, "must be a list of names");
            }
            List<String> out = new ArrayList<>();
            node.forEach(n -> out.add(text(n, key)));
            return out;
        }

        Optional<InputShape> shape(JsonNode node) {
            if (node == null) {
                return Optional.empty();
            }
            if (!node.isArray() || node.size() != 3 && node.size() != 1) {
                throw problem("shape", "must be [channels, height, width] for images or [features] for CSV");
            }
            try {
                return Optional.of(node.size() == 1 ? InputShape.features(integer(node.get(0), "shape", 1, 1 << 20))
                        : InputShape.image(integer(node.get(0), "shape", 1, 4096), integer(node.get(1), "shape", 1,
                                4096), integer(node.get(2), "shape", 1, 4096)));
            } catch (IllegalArgumentException e) {
                throw problem("shape", "is out of range: " + e.getMessage());
            }
        }

        SplitFiles files(JsonNode node, String key, Format format) {
            if (format == Format.IDX) {
                if (node == null || !node.isObject() || !node.has("images") || !node.has("labels")
                        || node.size() != 2) {
                    throw problem(key, "must be {images: <IDX file>, labels: <IDX file>}");
                }
                return new SplitFiles(name(node.get("images"), key + ".images"),
                        Optional.of(name(node.get("labels"), key + ".labels")));
            }
            if (node == null) {
                throw problem(key, "is missing: it names the " + (format == Format.CSV ? "CSV file" : "directory of"
                        + " class folders") + " of the " + key + " split");
            }
            return new SplitFiles(name(node, key), Optional.empty());
        }

        private String name(JsonNode node, String key) {
            String name = text(node, key);
            RelativeName.problem(name).ifPresent(why -> {
                throw problem(key, "\"" + name + "\" " + why + ": it must be a path inside the data set's directory");
            });
            return name;
        }

        Optional<Normalization> normalization(JsonNode node) {
            if (node == null) {
                return Optional.empty();
            }
            if (!node.isObject() || !node.has("mean") || !node.has("std") || node.size() != 2) {
                throw problem("normalization", "must be {mean: [one per channel], std: [one per channel]}");
            }
            List<Double> mean = new ArrayList<>();
            List<Double> std = new ArrayList<>();
            node.get("mean").forEach(n -> mean.add(n.asDouble(Double.NaN)));
            node.get("std").forEach(n -> std.add(n.asDouble(Double.NaN)));
            try {
                return Optional.of(new Normalization(mean, std));
            } catch (IllegalArgumentException e) {
                throw problem("normalization", "is not valid: " + e.getMessage());
            }
        }
    }
}
