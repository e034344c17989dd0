package dev.shears.common.recipe;

import dev.shears.common.data.InputShape;
import dev.shears.common.data.RelativeName;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * The {@code model} key: a built-in architecture trained from scratch, shaped by the data (channels, height,
 * width, classes), or a DL4J {@code ModelSerializer} zip to start from. Written as a name ({@code model: resnet})
 * or, to size an architecture, as a mapping:
 *
 * <pre>
 * model:
 *   name: resnet      # depth 6n+2 (20 = ResNet-20), width = the first stage's channels
 *   depth: 20
 *   width: 16
 * </pre>
 *
 * <p>Which fields a kind takes: {@code resnet} depth (6n+2, in [8, 1202], default 20) and width ([1, 1024], default
 * 16); {@code vgg} depth (11, 13, 16 or 19: VGG's configurations A, B, D, E; default 11) and width (the first
 * stage's channels, [1, 1024], default 64); {@code mobilenetv2} widthMultiplier ((0, 4], default 1); the others
 * none. Absent fields take their defaults when read.
 *
 * @param kind which
 * @param file the zip; present exactly when {@code kind} is {@link Kind#FILE}
 * @param depth present exactly for {@link Kind#RESNET} and {@link Kind#VGG}
 * @param width present exactly for {@link Kind#RESNET} and {@link Kind#VGG}
 * @param widthMultiplier present exactly for {@link Kind#MOBILENETV2}
 */
public record ModelSource(Kind kind, Optional<Path> file, OptionalInt depth, OptionalInt width,
        OptionalDouble widthMultiplier) {

    static final String FIELD = "model";
    static final String FILE_PREFIX = "file:";
    static final List<String> KEYS = List.of("name", "depth", "width", "widthMultiplier");
    private static final String RULE = "must be lenet5, lenet300100, resnet, mobilenetv2, vgg or"
            + " file:<path to a DL4J ModelSerializer zip under the worker's model root>";
    /** ResNet-20's depth and width. */
    public static final int DEFAULT_RESNET_DEPTH = 20;
    public static final int DEFAULT_RESNET_WIDTH = 16;
    /** VGG-11 at VGG's own width. */
    public static final int DEFAULT_VGG_DEPTH = 11;
    public static final int DEFAULT_VGG_WIDTH = 64;
    public static final double DEFAULT_WIDTH_MULTIPLIER = 1.0;
    /** VGG's configurations by depth. */
    static final List<Integer> VGG_DEPTHS = List.of(11, 13, 16, 19);
    /** The smallest height and width LeNet-5's two 5x5 convolutions and 2x2 poolings leave something of. */
    static final int LENET5_MIN_SIZE = 12;

    /** What the model is. */
    public enum Kind {
        /** LeNet-5: two convolutions and three dense layers. */
        LENET5,
        /** LeNet-300-100: three dense layers, 300 and 100 hidden units. */
        LENET300100,
        /** A CIFAR-style residual network: basic blocks with batch norm, three stages. */
        RESNET,
        /** MobileNetV2: inverted residuals with depthwise convolutions and ReLU6. */
        MOBILENETV2,
        /** A plain VGG: stacks of convolution, batch norm and ReLU, with max pooling. */
        VGG,
        /** A saved network. */
        FILE;

        /** Whether {@code model.depth} applies. */
        public boolean usesDepth() {
            return this == RESNET || this == VGG;
        }

        /** Whether {@code model.width} applies. */
        public boolean usesWidth() {
            return this == RESNET || this == VGG;
        }

        /** Whether {@code model.widthMultiplier} applies. */
        public boolean usesWidthMultiplier() {
            return this == MOBILENETV2;
        }

        int defaultDepth() {
            return this == RESNET ? DEFAULT_RESNET_DEPTH : DEFAULT_VGG_DEPTH;
        }

        int defaultWidth() {
            return this == RESNET ? DEFAULT_RESNET_WIDTH : DEFAULT_VGG_WIDTH;
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final ModelSource LENET5 = builtIn(Kind.LENET5);
    public static final ModelSource LENET300100 = builtIn(Kind.LENET300100);

    /**
     * @throws RecipeException when a field is given for a kind that does not use it, missing, or out of range, or
     *     when the file is not a safe path under the model root (absolute, {@code ..})
     */
    public ModelSource {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(depth, "depth");
        Objects.requireNonNull(width, "width");
        Objects.requireNonNull(widthMultiplier, "widthMultiplier");
        Kind k = kind;
        Optional<Path> f = file;
        OptionalInt d = depth;
        OptionalInt w = width;
        OptionalDouble m = widthMultiplier;
        Problems.require(FIELD, p -> check(k, f, d, w, m, p));
    }

    /** A built-in architecture with its default size ({@code file} for none). */
    public static ModelSource builtIn(Kind kind) {
        return new ModelSource(kind, Optional.empty(),
                kind.usesDepth() ? OptionalInt.of(kind.defaultDepth()) : OptionalInt.empty(),
                kind.usesWidth() ? OptionalInt.of(kind.defaultWidth()) : OptionalInt.empty(),
                kind.usesWidthMultiplier() ? OptionalDouble.of(DEFAULT_WIDTH_MULTIPLIER) : OptionalDouble.empty());
    }

    /** A ResNet of {@code depth} = 6n+2 layers whose first stage has {@code width} channels (ResNet-20: 20, 16). */
    public static ModelSource resnet(int depth, int width) {
        return new ModelSource(Kind.RESNET, Optional.empty(), OptionalInt.of(depth), OptionalInt.of(width),
                OptionalDouble.empty());
    }

    /** A VGG of configuration {@code depth} (11, 13, 16, 19) whose first stage has {@code width} channels. */
    public static ModelSource vgg(int depth, int width) {
        return new ModelSource(Kind.VGG, Optional.empty(), OptionalInt.of(depth), OptionalInt.of(width),
                OptionalDouble.empty());
    }

    /** A MobileNetV2 with every layer's channels scaled by {@code widthMultiplier} (rounded to multiples of 8). */
    public static ModelSource mobilenetv2(double widthMultiplier) {
        return new ModelSource(Kind.MOBILENETV2, Optional.empty(), OptionalInt.empty(), OptionalInt.empty(),
                OptionalDouble.of(widthMultiplier));
    }

    /**
     * A saved network, named by its path under the worker's model root ({@code --model-root}), such
     * as {@code lenet5.zip} or {@code team/net.zip}; the worker re-checks it by real path.
     */
    public static ModelSource file(Path zip) {
        return new ModelSource(Kind.FILE, Optional.of(zip), OptionalInt.empty(), OptionalInt.empty(),
                OptionalDouble.empty());
    }

    /**
     * Parses the recipe's spelling of a name, a built-in architecture taking its default size.
     *
     * @throws RecipeException when {@code spec} is none of {@code lenet5}, {@code lenet300100}, {@code resnet},
     *     {@code mobilenetv2}, {@code vgg}, {@code file:<path>}
     */
    public static ModelSource parse(String spec) {
        Problems p = new Problems();
        ModelSource source = parse(spec, p);
        p.throwIfAny(FIELD);
        return source;
    }

    static ModelSource parse(String spec, Problems p) {
        return parse(spec, FIELD, p);
    }

    static ModelSource parse(String spec, String field, Problems p) {
        for (Kind k : Kind.values()) {
            if (k != Kind.FILE && spec.equals(k.toString())) {
                return builtIn(k);
            }
        }
        if (spec.startsWith(FILE_PREFIX)) {
            String path = spec.substring(FILE_PREFIX.length());
            if (path.isBlank()) {
                p.add(field, spec, "has no path after file: (fix: e.g. file:lenet5.zip)");
                return null;
            }
            if (path.chars().anyMatch(Character::isISOControl)) {
                p.add(field, spec, "contains a control character: a path may not (fix: remove it)");
                return null;
            }
            if (!checkFile(field, spec, path, p)) {
                return null;
            }
            try {
                return file(Path.of(path));
            } catch (InvalidPathException e) {
                p.add(field, spec, "is not a valid path: " + e.getReason() + " (fix: give the zip's path)");
                return null;
            }
        }
        List<String> names = Arrays.stream(Kind.values()).filter(k -> k != Kind.FILE).map(Kind::toString).toList();
        String hint = Problems.closest(spec, names)
                .map(s -> "did you mean " + s + "?").orElse("e.g. lenet5, resnet, or file:net.zip");
        p.add(field, spec, "is not a known model: " + RULE + " (fix: " + hint + ")");
        return null;
    }

    /** The checks; a null argument was already reported as unreadable and is skipped. */
    static void check(Kind kind, Optional<Path> file, OptionalInt depth, OptionalInt width,
            OptionalDouble widthMultiplier, Problems p) {
        if (kind == null) {
            return;
        }
        if (file != null && file.isPresent() != (kind == Kind.FILE)) {
            p.add(FIELD, kind, (kind == Kind.FILE ? "needs" : "takes no") + " a file: " + RULE);
        }
        if (file != null) {
            file.ifPresent(f -> checkFile(FIELD, FILE_PREFIX + f, f.toString(), p));
        }
        String size = " (fix: give one, or use ModelSource.builtIn for the default size)";
        if (p.takenOnlyBy(FIELD + ".depth", depth, "model", kind, Kind::usesDepth, "a depth" + size)) {
            int d = depth.getAsInt();
            if (kind == Kind.RESNET && (d < 8 || d > 1202 || (d - 2) % 6 != 0)) {
                p.add(FIELD + ".depth", d, "is not a ResNet depth: must be 6n+2 in [8, 1202], three stages of n"
                        + " basic blocks (fix: e.g. 20, 32, 44, 56 or 110)");
            } else if (kind == Kind.VGG && !VGG_DEPTHS.contains(d)) {
                p.add(FIELD + ".depth", d, "is not a VGG configuration: must be 11, 13, 16 or 19 (fix: e.g. 11)");
            }
        }
        if (p.takenOnlyBy(FIELD + ".width", width, "model", kind, Kind::usesWidth, "a width" + size)) {
            p.range(FIELD + ".width", width.getAsInt(), 1, 1024, "the first stage's channels, e.g. "
                    + kind.defaultWidth());
        }
        if (p.takenOnlyBy(FIELD + ".widthMultiplier", widthMultiplier, "model", kind, Kind::usesWidthMultiplier,
                "a width multiplier" + size)) {
            p.range(FIELD + ".widthMultiplier", widthMultiplier.getAsDouble(), 0, false, 4, true,
                    "e.g. 1.0, or 0.5 for half the channels");
        }
    }

    /** Whether {@code path} is a safe name under the model root; adds the problem when not. */
    private static boolean checkFile(String field, String spec, String path, Problems p) {
        Optional<String> why = RelativeName.problem(path);
        why.ifPresent(w -> p.add(field, spec, "names a file that " + w + ": the path after file: "
                + RelativeName.rule("model") + " (fix: e.g. file:lenet5.zip)"));
        return why.isEmpty();
    }

    /**
     * Refuses a model that cannot read examples of {@code input} shape: the convolutional ones need images, and
     * LeNet-5 needs at least 12x12 (its convolutions and poolings leave nothing of less). The other built-in architectures take any shape; a saved
     * model's is checked where it is loaded.
     *
     * @throws RecipeException naming {@code model}, the shape and the fix
     */
    public void checkFits(InputShape input) {
        Problems.require("recipe", p -> checkFits(input, p));
    }

    void checkFits(InputShape input, Problems p) {
        if (!input.isImage() && kind != Kind.LENET300100 && kind != Kind.FILE) {
            p.add(FIELD, kind, "reads images, and the data are " + input + " (fix: use lenet300100 for feature"
                    + " vectors, or image data)");
            return;
        }
        if (kind == Kind.LENET5 && (input.height() < LENET5_MIN_SIZE || input.width() < LENET5_MIN_SIZE)) {
            p.add(FIELD, kind, "needs examples of at least " + LENET5_MIN_SIZE + "x" + LENET5_MIN_SIZE
                    + " pixels: its two 5x5 convolutions and 2x2 poolings leave nothing of the data's " + input
                    + " (fix: use resnet, mobilenetv2 or vgg, which take any size, or data of at least "
                    + LENET5_MIN_SIZE + "x" + LENET5_MIN_SIZE + ")");
        }
    }

    /** Whether the recipe writes this model as a mapping (an architecture with its size) rather than a name. */
    boolean sized() {
        return depth.isPresent() || width.isPresent() || widthMultiplier.isPresent();
    }

    /** The recipe's spelling of the model's name: {@code lenet5}, {@code resnet}, ... or {@code file:<path>}. */
    @Override
    public String toString() {
        return kind == Kind.FILE ? FILE_PREFIX + file.orElseThrow() : kind.toString();
    }
}
