package dev.shears.common.recipe;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * A gradual-pruning job as written in YAML: what to train, what to prune and how, the sparsity
 * schedule, the accuracy budget, and where the result goes.
 *
 * <p>{@link #parse} and {@link #load} refuse unknown keys, wrong types, values out of range and
 * fields given for a method or kind that does not use them, and report all problems at once in
 * one {@link RecipeException}. Absent keys take the defaults of the section records'
 * {@code defaults()}. {@link #toYaml()} writes every value out, defaults included, and reads back
 * equal.
 *
 * @param job the job's name, {@code [a-z0-9][a-z0-9._-]{0,63}}: safe as a file name and a label
 * @param model the model to prune
 * @param data the data set, named under the worker's data roots, and its split, shape, normalisation and
 *     augmentation (default {@code fashion-mnist})
 * @param training the {@code training} section
 * @param pruning the {@code pruning} section
 * @param schedule the {@code schedule} section
 * @param fineTune the {@code fineTune} section
 * @param accuracyBudget the {@code accuracyBudget} section
 * @param checkpoints the {@code checkpoints} section
 * @param publish the {@code publish} section; its name defaults to the job's
 */
public record Recipe(
        String job,
        ModelSource model,
        DataSpec data,
        Training training,
        PruningSpec pruning,
        ScheduleSpec schedule,
        FineTune fineTune,
        AccuracyBudget accuracyBudget,
        Checkpoints checkpoints,
        Publish publish) {

    /** The largest recipe read: 1 MiB of UTF-8. */
    public static final int MAX_BYTES = 1 << 20;

    /**
     * @throws RecipeException when {@code job} is not a valid name, or the model cannot read the data's
     *     declared {@code data.shape} ({@link ModelSource#checkFits})
     */
    public Recipe {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(training, "training");
        Objects.requireNonNull(pruning, "pruning");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(fineTune, "fineTune");
        Objects.requireNonNull(accuracyBudget, "accuracyBudget");
        Objects.requireNonNull(checkpoints, "checkpoints");
        Objects.requireNonNull(publish, "publish");
        Problems.require("recipe", p -> {
            checkJob(job, p);
            checkFits(model, data, p);
        });
    }

    /** The model against the shape the data section declares, when it declares one. */
    static void checkFits(ModelSource model, DataSpec data, Problems p) {
        if (model != null && data != null) {
            data.shape().ifPresent(shape -> model.checkFits(shape, p));
        }
    }

    /** A recipe with every section at its defaults, published under the job's name. */
    public static Recipe withDefaults(String job, ModelSource model) {
        return new Recipe(job, model, DataSpec.defaults(), Training.defaults(), PruningSpec.defaults(),
                ScheduleSpec.defaults(), FineTune.defaults(), AccuracyBudget.defaults(), Checkpoints.defaults(),
                new Publish(job));
    }

    /**
     * Reads a recipe from YAML text.
     *
     * @throws RecipeException listing every problem: invalid YAML, unknown keys, wrong types,
     *     missing required keys, values out of range, a text over {@link #MAX_BYTES}
     */
    public static Recipe parse(String yaml) {
        return parse(yaml, "recipe");
    }

    /**
     * Reads a recipe file (UTF-8, at most {@link #MAX_BYTES}).
     *
     * @throws RecipeException listing every problem in it; the message names the file
     * @throws IOException when the file cannot be read
     */
    public static Recipe load(Path file) throws IOException {
        String source = "recipe " + file;
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        }
        Problems problems = new Problems();
        if (bytes.length > MAX_BYTES) {
            tooLarge(Files.isRegularFile(file) ? Files.size(file) : bytes.length, problems);
            problems.throwIfAny(source);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            problems.document("", "the recipe is not UTF-8 text (fix: save it as UTF-8)");
            throw new RecipeException(source, problems.list());
        }
        return parse(text, source);
    }

    private static Recipe parse(String yaml, String source) {
        Problems problems = new Problems();
        long bytes = utf8Length(yaml);
        if (bytes > MAX_BYTES) {
            tooLarge(bytes, problems);
            problems.throwIfAny(source);
        }
        String text = yaml.startsWith("\uFEFF") ? yaml.substring(1) : yaml;
        YamlTree.Node root = YamlTree.parse(text, problems);
        Recipe recipe = RecipeReader.read(root, problems);
        problems.throwIfAny(source);
        return recipe;
    }

    /** This recipe as YAML with every value written out; {@link #parse} reads it back equal. */
    public String toYaml() {
        return RecipeWriter.write(this);
    }

    static void checkJob(String job, Problems p) {
        p.name("job", job, "lenet5-fmnist-90");
    }

    private static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    private static void tooLarge(long bytes, Problems problems) {
        problems.document(bytes + " bytes", String.format(Locale.ROOT, "the recipe is too large: %d bytes"
                + " (%.1f MiB), at most %d bytes (1 MiB) are read (fix: a recipe is a few dozen lines;"
                + " check that this is the right file)", bytes, bytes / (double) MAX_BYTES, MAX_BYTES));
    }
}
