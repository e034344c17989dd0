package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.deeplearning4j.zoo.model.LeNet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
        return (MultiLayerNetwork) LeNet.builder().numClasses(10).seed(7).inputShape(new int[] {1, 28, 28}).build().init();
    }

    @Test
    void aModelDl4jWroteAndAPrunedModelPass() throws IOException {
        MultiLayerNetwork net = lenet5();
        Path plain = dir.resolve("plain.zip");
        ModelSerializer.writeModel(net, plain.toFile(), true);
        Path pruned = dir.resolve("pruned.zip");
        Pruning pruning = Pruning.of(net);
        pruning.l1Unstructured("cnn1.weight", Amount.fraction(0.5));
        PrunedModel.save(net, pruning, pruned.toFile(), true);

        assertThatCode(() -> ModelZips.check(plain)).doesNotThrowAnyException();
        assertThatCode(() -> ModelZips.check(pruned)).doesNotThrowAnyException();
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
                .hasMessageStartingWith("model file " + file + " has an entry preprocessor.bin, a Java-serialized object");
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
        Path file = zip("liar.zip", Map.of("coefficients.bin", new byte[100_000]));
        byte[] bytes = Files.readAllBytes(file);
        // the central directory header (PK\1\2) keeps the uncompressed size at offset 24: declare 10 bytes
        int central = ZipBytes.indexOf(bytes, new byte[] {'P', 'K', 1, 2});
        bytes[central + 24] = 10;
        bytes[central + 25] = 0;
        bytes[central + 26] = 0;
        bytes[central + 27] = 0;
        Files.write(file, bytes);

        assertThatThrownBy(() -> ModelZips.check(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("entry coefficients.bin inflates to more than the 10 bytes its central directory declares");
    }

    @Test
    void twoEntriesOfOneNameAreRefused() throws IOException {
        Path file = zip("twice.zip", Map.of("configuration.json", "{}".getBytes(StandardCharsets.UTF_8),
                "configuration.jsoX", "{}".getBytes(StandardCharsets.UTF_8)));
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, new String(bytes, StandardCharsets.ISO_8859_1).replace("configuration.jsoX", "configuration.json")
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
            outer:
            for (int i = 0; i + what.length <= bytes.length; i++) {
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
