package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.deeplearning4j.zoo.model.LeNet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/** The bounds every model zip keeps before DL4J or Shears reads it. */
class ModelZipsTest {
    static final ModelZips.Limits SMALL = new ModelZips.Limits(4, 1_000, 2_500, 400, 64L << 20);

    @TempDir
    Path dir;

    /** A stand-in for a gadget in {@code preprocessor.bin}: deserializing it records that its code ran. */
    static final class Gadget implements Serializable {
        private static final long serialVersionUID = 1L;
        static final AtomicBoolean RAN = new AtomicBoolean();

        private void readObject(java.io.ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            RAN.set(true);
        }
    }

    /** DL4J's zoo LeNet-5 for 28x28 inputs. */
    private static MultiLayerNetwork lenet5() {
        return (MultiLayerNetwork) LeNet.builder().numClasses(10).seed(7).inputShape(new int[]{1, 28, 28}).build()
                .init();
    }

    @Test
    void everyKindOfModelFileDl4jAndShearsWritePassesWithItsArrays() throws IOException {
        MultiLayerNetwork net = lenet5();
        Path network = dir.resolve("network.zip");
        ModelSerializer.writeModel(net, network.toFile(), true);
        Path graph = dir.resolve("graph.zip");
        ModelSerializer.writeModel(net.toComputationGraph(), graph.toFile(), true);
        Path pruned = prunedWithUpdater(net);

        for (Path file : List.of(network, graph, pruned)) {
            assertThat(ZipBytes.read(file)).as(file.toString()).containsKeys("coefficients.bin", "updaterState.bin");
            assertThatCode(() -> ModelZips.check(file)).as(file.toString()).doesNotThrowAnyException();
        }
        assertThat(ZipBytes.read(pruned)).containsKeys(PrunedModel.INDEX_ENTRY, "shears-mask-0.bin",
                "shears-mask-1.bin");
    }

    /** {@code net} as a checkpoint saves it: updater state, one mask of bits and one stored whole. */
    private Path prunedWithUpdater(MultiLayerNetwork net) throws IOException {
        Pruning pruning = Pruning.of(net).l1Unstructured("cnn1.weight", Amount.fraction(0.5))
                .customFromMask("cnn1.bias", Nd4j.createFromArray(new float[]{0.5f, 1f, 0f, 0.25f, 1f, 1f, 1f, 1f, 1f,
                        1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f}));
        Path file = dir.resolve("pruned.zip");
        PrunedModel.save(net, pruning, file.toFile(), true);
        return file;
    }

    static Stream<Arguments> arraysNd4jReadsBack() {
        return Stream.of(
                Arguments.of("the parameters of a network", Nd4j.rand(DataType.FLOAT, 1_000)),
                Arguments.of("a C-order matrix", Nd4j.rand(DataType.FLOAT, 3, 4)),
                Arguments.of("an F-order matrix", Nd4j.rand(DataType.FLOAT, 'f', 2, 3)),
                Arguments.of("a transposed matrix", Nd4j.rand(DataType.FLOAT, 3, 4).transpose()),
                Arguments.of("a permuted 3-d array", Nd4j.rand(DataType.FLOAT, 2, 3, 4).permute(1, 0, 2)),
                Arguments.of("a scalar", Nd4j.scalar(3f)),
                Arguments.of("an empty array", Nd4j.create(DataType.FLOAT, 0)),
                Arguments.of("doubles", Nd4j.rand(DataType.DOUBLE, 2, 2)),
                Arguments.of("halves", Nd4j.rand(DataType.FLOAT, 2, 2).castTo(DataType.HALF)),
                Arguments.of("ints", Nd4j.createFromArray(1, 2, 3)),
                Arguments.of("booleans", Nd4j.createFromArray(true, false)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("arraysNd4jReadsBack")
    void anArrayNd4jWroteAndReadsBackPasses(String what, INDArray array) throws IOException {
        byte[] written = ArrayBytes.write(array);
        assertThat(Nd4j.read(new DataInputStream(new ByteArrayInputStream(written)))).isEqualTo(array);
        assertThat(ArrayBytes.of(array).bytes()).as("the fixture writes what Nd4j.write writes").isEqualTo(written);

        Path file = zip("array.zip", Map.of("coefficients.bin", written));

        assertThatCode(() -> ModelZips.check(file)).doesNotThrowAnyException();
    }

    @Test
    void anArrayOfTheFormatBeforeDataTypesWereFlaggedPassesAsNd4jReadsIt() throws IOException {
        INDArray array = Nd4j.rand(DataType.FLOAT, 3, 4);
        ArrayBytes current = ArrayBytes.of(array);
        long[] info = current.info().clone();
        info[info.length - 3] = 0; // no data type flag in the extras: Nd4j.read sets it from the data's type
        byte[] legacy = new ArrayBytes("HEAP", "INT", info, "HEAP", "FLOAT", 12, current.data()).bytes();
        assertThat(Nd4j.read(new DataInputStream(new ByteArrayInputStream(legacy)))).isEqualTo(array);

        Path file = zip("legacy.zip", Map.of("updaterState.bin", legacy));

        assertThatCode(() -> ModelZips.check(file)).doesNotThrowAnyException();
    }

    /** A 3x4 float matrix, forged, and the start of the refusal. */
    static Stream<Arguments> forgedArrays() {
        ArrayBytes m = ArrayBytes.of(Nd4j.rand(DataType.FLOAT, 3, 4)); // info: 2, 3, 4, 4, 1, 8192, 1, 99
        byte[] kib = new byte[1024];
        return Stream.of(
                Arguments.of("2^40 floats in a 1 KiB entry", m.withCount(1L << 40).withData(kib).bytes(),
                        "declares 1099511627776 FLOAT elements (4 bytes each) but holds 1024 bytes of data after its headers"),
                Arguments.of("a data section cut short", m.withData(Arrays.copyOf(m.data(), 44)).bytes(),
                        "declares 12 FLOAT elements (4 bytes each) but holds 44 bytes of data"),
                Arguments.of("bytes after the data", m.withData(Arrays.copyOf(m.data(), 52)).bytes(),
                        "declares 12 FLOAT elements (4 bytes each) but holds 52 bytes of data"),
                Arguments.of("2^40 values of shape information",
                        ByteBuffer.wrap(m.bytes()).putLong(2 + "MIXED_DATA_TYPES".length(), 1L << 40).array(),
                        "declares 1099511627776 values of shape information, but an array of rank 0 to 32 has 4 to 68"),
                Arguments.of("a shape of more elements than the data", m.withInfo(2, 5).bytes(),
                        "has shape [3, 5] of 15 elements, but 12 elements of data"),
                Arguments.of("a rank that disagrees with the shape information", m.withInfo(0, 3).bytes(),
                        "has 8 values of shape information for rank 3; rank r has 2r + 4"),
                Arguments.of("strides that reach past the data", m.withInfo(3, 5).bytes(),
                        "has shape [3, 4] and strides [5, 1], which reach past its 12 elements of data"),
                Arguments.of("a negative size", m.withInfo(1, -3).bytes(),
                        "has shape [-3, 4] and strides [4, 1], which ND4J writes as sizes and strides of 0 or more"),
                Arguments.of("sizes whose product overflows", m.withInfo(1, 1L << 62).bytes(),
                        "has shape [4611686018427387904, 4] and strides [4, 1], whose element count or last offset"),
                Arguments.of("an element-wise stride past 1", m.withInfo(6, 7).bytes(),
                        "has element-wise stride 7; an array ND4J writes has 1, 0 or -1"),
                Arguments.of("an order that is neither c nor f", m.withInfo(7, 'x').bytes(),
                        "has order 120; ND4J writes 'c' (99) or 'f' (102)"),
                Arguments.of("extras flagging another data type", m.withInfo(5, 16384).bytes(),
                        "has extras 16384, which ND4J reads as data type DOUBLE, but data of type FLOAT"),
                Arguments.of("extras flagging a sparse array", m.withInfo(5, 8192 | 2).bytes(),
                        "has extras 8194: flags other than its data type FLOAT or empty (8)"),
                Arguments.of("strings", m.withDataType("UTF8").bytes(),
                        "holds data of type UTF8, which is not a numeric type ND4J reads as it is"),
                Arguments.of("compressed data", m.withDataType("COMPRESSED").bytes(),
                        "holds data of type COMPRESSED, which is not a numeric type ND4J reads as it is"),
                Arguments.of("shape information of floats", m.withShapeType("FLOAT").bytes(),
                        "has shape information of type FLOAT; ND4J writes it as LONG"),
                Arguments.of("an unknown allocation mode", new ArrayBytes("BOGUS", "LONG", m.info(), "MIXED_DATA_TYPES",
                        "FLOAT", 12, m.data()).bytes(),
                        "has shape information with allocation mode 'BOGUS', which ND4J does not know"),
                Arguments.of("a negative count",
                        new ArrayBytes("MIXED_DATA_TYPES", "LONG", m.info(), "HEAP", "FLOAT", -1,
                                m.data()).bytes(),
                        "declares -1 elements of data"),
                Arguments.of("no bytes at all", new byte[0],
                        "ends inside its array headers"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forgedArrays")
    void aForgedArrayHeaderIsRefusedNamingFileEntryAndWhatIsWrong(String what, byte[] forged, String why)
            throws IOException {
        Path file = zip("forged.zip", Map.of("configuration.json", new byte[2], "coefficients.bin", forged));

        assertThatThrownBy(() -> ModelZips.check(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("model file " + file + " entry coefficients.bin " + why)
                .hasMessageEndingWith(
                        "(fix: use a model zip written by ModelSerializer.writeModel or PrunedModel.save)");
    }

    @Test
    void theCheckRunsOnBytesAloneWithNoNd4jOnTheClassPath() throws Exception {
        Path pruned = prunedWithUpdater(lenet5());
        ArrayBytes m = ArrayBytes.of(Nd4j.rand(DataType.FLOAT, 3, 4));
        Path forged = zip("forged.zip",
                Map.of("updaterState.bin", m.withCount(1L << 40).withData(new byte[1024]).bytes()));
        URL prune = ModelZips.class.getProtectionDomain().getCodeSource().getLocation();
        URL json = JsonNode.class.getProtectionDomain().getCodeSource().getLocation();

        try (URLClassLoader alone = new URLClassLoader(new URL[]{prune, json}, ClassLoader.getPlatformClassLoader())) {
            assertThatThrownBy(() -> alone.loadClass(Nd4j.class.getName())).isInstanceOf(ClassNotFoundException.class);
            Method check = alone.loadClass(ModelZips.class.getName()).getMethod("check", Path.class);
            assertThatCode(() -> check.invoke(null, pruned)).doesNotThrowAnyException();
            assertThatThrownBy(() -> check.invoke(null, forged)).isInstanceOf(InvocationTargetException.class).cause()
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("entry updaterState.bin declares 1099511627776 FLOAT elements");
        }
    }

    @Test
    void aForgedArrayIsRefusedBeforePrunedModelOrDl4jReadsIt() throws IOException {
        Path file = dir.resolve("forged.zip");
        ModelSerializer.writeModel(lenet5(), file.toFile(), false);
        Map<String, byte[]> entries = ZipBytes.read(file);
        entries.put("coefficients.bin", ArrayBytes.of(Nd4j.rand(DataType.FLOAT, 1_000)).withCount(1L << 40)
                .withData(new byte[1024]).bytes());
        ZipBytes.write(file, entries);

        assertThatThrownBy(() -> PrunedModel.restore(file.toFile(), true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("model file " + file + " entry coefficients.bin declares 1099511627776 FLOAT");
    }

    @Test
    void aNoParametersMarkerIsRefusedBeforeDl4jAllocatesWhatTheConfigurationDeclares() throws IOException {
        Path file = dir.resolve("marker.zip");
        ModelSerializer.writeModel(lenet5(), file.toFile(), false);
        Map<String, byte[]> entries = ZipBytes.read(file);
        entries.put("coefficients.bin", new byte[0]);
        entries.put("noParams.marker", new byte[0]);
        ZipBytes.write(file, entries);

        assertThatThrownBy(() -> ModelZips.check(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "model file " + file + " has an entry noParams.marker, with which DL4J allocates");
    }

    /** An edit of the pruning index's record of cnn1.weight (20x1x5x5, half pruned), and the start of the refusal. */
    static Stream<Arguments> forgedIndexes() {
        return Stream.of(
                Arguments.of("a shape of 2^32 elements", (Consumer<ObjectNode>) p -> p.putArray("shape").add(65_536)
                        .add(65_536),
                        "entry shears-pruning.json records cnn1.weight with shape [65536,65536], more than"
                                + " 2147483647 elements"),
                Arguments.of("more pruned than elements", (Consumer<ObjectNode>) p -> p.put("pruned", 999_999),
                        "entry shears-pruning.json records cnn1.weight[20, 1, 5, 5] with 999999 pruned, expected 0 to 500"),
                Arguments.of("fewer pruned than the entry holds", (Consumer<ObjectNode>) p -> p.put("pruned", 0),
                        "entry shears-mask-0.bin should hold 63 bytes for cnn1.weight[20, 1, 5, 5] with 0 pruned, as"
                                + " shears-pruning.json records, but holds 1063"),
                Arguments.of("a data type PrunedModel does not store",
                        (Consumer<ObjectNode>) p -> p.put("dtype", "HALF"),
                        "entry shears-pruning.json records cnn1.weight with data type 'HALF'"),
                Arguments.of("an entry that is missing",
                        (Consumer<ObjectNode>) p -> p.put("entry", "shears-mask-9.bin"),
                        "entry shears-mask-9.bin should hold 1063 bytes for cnn1.weight[20, 1, 5, 5] with 250 pruned, as"
                                + " shears-pruning.json records, but it is missing"),
                Arguments.of("JSON nested deeper than an index",
                        (Consumer<ObjectNode>) p -> p.putArray("key").addArray()
                                .addArray().addArray(),
                        "entry shears-pruning.json nests JSON deeper than the 4 levels of an index"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forgedIndexes")
    void aPruningStateEntryOrIndexThatDisagreesIsRefusedBeforeAnythingIsAllocated(String what,
            Consumer<ObjectNode> edit,
            String why) throws IOException {
        MultiLayerNetwork net = lenet5();
        Path file = dir.resolve("pruned.zip");
        PrunedModel.save(net, Pruning.of(net).l1Unstructured("cnn1.weight", Amount.fraction(0.5)), file.toFile(),
                false);
        Map<String, byte[]> entries = ZipBytes.read(file);
        ObjectMapper json = new ObjectMapper();
        ObjectNode index = (ObjectNode) json.readTree(entries.get(PrunedModel.INDEX_ENTRY));
        edit.accept((ObjectNode) index.get("parameters").get(0));
        entries.put(PrunedModel.INDEX_ENTRY, json.writeValueAsBytes(index));
        ZipBytes.write(file, entries);

        assertThatThrownBy(() -> PrunedModel.restore(file.toFile(), false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("model file " + file + " " + why);
    }

    @Test
    void aPreprocessorEntryIsRefusedBeforePrunedModelOrDl4jDeserializesIt() throws IOException {
        Path file = dir.resolve("gadget.zip");
        ModelSerializer.writeModel(lenet5(), file.toFile(), false);
        Map<String, byte[]> entries = ZipBytes.read(file);
        ByteArrayOutputStream serialized = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(serialized)) {
            out.writeObject(new Gadget());
        }
        entries.put(ModelZips.PREPROCESSOR_ENTRY, serialized.toByteArray());
        ZipBytes.write(file, entries);
        Gadget.RAN.set(false);

        assertThatThrownBy(() -> PrunedModel.restore(file.toFile(), false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "model file " + file + " has an entry preprocessor.bin, a Java-serialized object");
        assertThat(Gadget.RAN).as("the gadget's readObject ran").isFalse();
    }

    @Test
    void anEntryLargerThanTheLimitIsRefusedNamingFileEntryAndLimit() throws IOException {
        Path file = zip("big.zip", Map.of("configuration.json", new byte[10], "coefficients.bin", new byte[1_001]));

        assertThatThrownBy(() -> ModelZips.check(file, SMALL)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("model file " + file + " entry coefficients.bin inflates to 1001 bytes,"
                        + " more than the limit of 1000 per entry");
    }

    @Test
    void entriesLargerTogetherThanTheLimitAreRefused() throws IOException {
        Path file = zip("total.zip", Map.of("a", new byte[900], "b", new byte[900], "c", new byte[900]));

        assertThatThrownBy(() -> ModelZips.check(file, SMALL)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflates to 2700 bytes, more than the limit of 2500 for all entries together");
    }

    @Test
    void moreEntriesThanTheLimitAreRefused() throws IOException {
        Map<String, byte[]> five = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            five.put("e" + i, new byte[1]);
        }
        Path file = zip("many.zip", five);

        assertThatThrownBy(() -> ModelZips.check(file, SMALL)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has 5 entries, more than the limit of 4");
    }

    @Test
    void aZipBombIsRefusedByItsRatioBeforeItIsInflated() throws IOException {
        Path file = dir.resolve("bomb.zip");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            zip.putNextEntry(new ZipEntry("coefficients.bin"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 100; i++) {
                zip.write(zeros);
            }
            zip.closeEntry();
        }

        assertThatThrownBy(() -> ModelZips.check(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model file " + file + " inflates to 104857600 bytes, more than 400 times its")
                .hasMessageContaining("(the limit past 67108864 inflated bytes): a possible zip bomb");
    }

    @Test
    void anEntryThatInflatesBeyondItsDeclaredSizeIsRefusedWithoutInflatingTheRest() throws IOException {
        Path file = zip("liar.zip", Map.of("configuration.json", new byte[100_000]));
        byte[] bytes = Files.readAllBytes(file);
        // the central directory header (PK\1\2) keeps the uncompressed size at offset 24: declare 10 bytes
        int central = ZipBytes.indexOf(bytes, new byte[]{'P', 'K', 1, 2});
        bytes[central + 24] = 10;
        bytes[central + 25] = 0;
        bytes[central + 26] = 0;
        bytes[central + 27] = 0;
        Files.write(file, bytes);

        assertThatThrownBy(() -> ModelZips.check(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(
                        "entry configuration.json inflates to more than the 10 bytes its central directory declares");
    }

    @Test
    void twoEntriesOfOneNameAreRefused() throws IOException {
        Path file = zip("twice.zip", Map.of("configuration.json", "{}".getBytes(StandardCharsets.UTF_8),
                "configuration.jsoX", "{}".getBytes(StandardCharsets.UTF_8)));
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file,
                new String(bytes, StandardCharsets.ISO_8859_1).replace("configuration.jsoX", "configuration.json")
                        .getBytes(StandardCharsets.ISO_8859_1));

        assertThatThrownBy(() -> ModelZips.check(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has two entries named 'configuration.json'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../evil.bin", "a/../../evil.bin", "/etc/passwd", "C:/evil.bin", "a\\b", "objects/", ""})
    void anEntryNameThatIsNotARelativeFileIsRefused(String name) throws IOException {
        Path file = zip("names.zip", Map.of(name, new byte[1]));

        assertThatThrownBy(() -> ModelZips.check(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has an entry named '" + name + "', which ");
    }

    @Test
    void aFileThatIsNotAZipIsAZipException() throws IOException {
        Path file = Files.writeString(dir.resolve("text.zip"), "not a zip");

        assertThatThrownBy(() -> ModelZips.check(file)).isInstanceOf(ZipException.class);
    }

    @Test
    void limitsMustBePositive() {
        assertThatThrownBy(() -> new ModelZips.Limits(0, 1, 1, 1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("use Limits.DEFAULT");
    }

    private Path zip(String name, Map<String, byte[]> entries) throws IOException {
        Path file = dir.resolve(name);
        ZipBytes.write(file, new LinkedHashMap<>(entries));
        return file;
    }

    /**
     * ND4J's array layout as {@code Nd4j.write} writes it, from its parts, so that a test can forge any of them: the
     * shape information's header and values, then the data's header and bytes.
     */
    record ArrayBytes(String shapeMode, String shapeType, long[] info, String dataMode, String dataType, long count,
            byte[] data) {
        static byte[] write(INDArray array) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            Nd4j.write(array, new DataOutputStream(bytes));
            return bytes.toByteArray();
        }

        static ArrayBytes of(INDArray array) {
            byte[] written;
            try {
                written = write(array);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            int data = Math.toIntExact(array.length() * array.dataType().width());
            return new ArrayBytes("MIXED_DATA_TYPES", "LONG", array.shapeInfoDataBuffer().asLong(), "MIXED_DATA_TYPES",
                    array.dataType().name(), array.length(), Arrays.copyOfRange(written, written.length - data,
                            written.length));
        }

        byte[] bytes() {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                header(out, shapeMode, info.length, shapeType);
                for (long v : info) {
                    if (shapeType.equals("INT")) {
                        out.writeInt((int) v);
                    } else {
                        out.writeLong(v);
                    }
                }
                header(out, dataMode, count, dataType);
                out.write(data);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bytes.toByteArray();
        }

        private static void header(DataOutputStream out, String mode, long count, String type) throws IOException {
            out.writeUTF(mode);
            if (List.of("DIRECT", "HEAP", "JAVACPP").contains(mode)) {
                out.writeInt((int) count);
            } else {
                out.writeLong(count);
            }
            out.writeUTF(type);
        }

        ArrayBytes withCount(long forged) {
            return new ArrayBytes(shapeMode, shapeType, info, dataMode, dataType, forged, data);
        }

        ArrayBytes withData(byte[] forged) {
            return new ArrayBytes(shapeMode, shapeType, info, dataMode, dataType, count, forged);
        }

        ArrayBytes withDataType(String forged) {
            return new ArrayBytes(shapeMode, shapeType, info, dataMode, forged, count, data);
        }

        ArrayBytes withShapeType(String forged) {
            return new ArrayBytes(shapeMode, forged, info, dataMode, dataType, count, data);
        }

        ArrayBytes withInfo(int index, long value) {
            long[] forged = info.clone();
            forged[index] = value;
            return new ArrayBytes(shapeMode, shapeType, forged, dataMode, dataType, count, data);
        }

    }

    /** Zips as plain maps of entry name to bytes, in order. */
    static final class ZipBytes {
        private ZipBytes() {}

        static Map<String, byte[]> read(Path file) throws IOException {
            Map<String, byte[]> entries = new LinkedHashMap<>();
            try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(file.toFile())) {
                for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                    entries.put(e.getName(), zip.getInputStream(e).readAllBytes());
                }
            }
            return entries;
        }

        static void write(Path file, Map<String, byte[]> entries) throws IOException {
            try (OutputStream raw = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(raw)) {
                for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                    zip.putNextEntry(new ZipEntry(e.getKey()));
                    zip.write(e.getValue());
                    zip.closeEntry();
                }
            }
        }

        static int indexOf(byte[] bytes, byte[] what) {
            outer : for (int i = 0; i + what.length <= bytes.length; i++) {
                for (int j = 0; j < what.length; j++) {
                    if (bytes[i + j] != what[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            throw new AssertionError("not found: " + List.of(what));
        }
    }
}
