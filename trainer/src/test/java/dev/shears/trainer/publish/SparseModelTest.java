package dev.shears.trainer.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.trainer.model.Models;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.nd4j.linalg.learning.config.Sgd;

/** The sparse encoding of a published network: what it writes reads back, and a forged header costs nothing. */
class SparseModelTest {
    /** LeNet-300-100: 266,610 parameters, so a bitmap of 33,327 bytes. */
    static final long PARAMETERS = 266_610;
    static final int MAGIC = 0x53485350;

    @TempDir
    Path dir;

    private static MultiLayerNetwork lenet300100() {
        return Models.lenet300100(5, new Sgd(0.1), 0);
    }

    @Test
    void aNetworkWithPrunedParametersReadsBackExactly() throws IOException {
        MultiLayerNetwork net = lenet300100();
        BooleanIndexing.replaceWhere(net.params(), 0.0, Conditions.absLessThan(0.05));
        Path file = dir.resolve("model.sparse.zip");

        SparseModel.write(net, file);

        assertThat(net.numParams()).isEqualTo(PARAMETERS);
        assertThat(SparseModel.read(file).params()).isEqualTo(net.params());
    }

    /** A {@code params.sparse} forged from its parts, and the end of the refusal. */
    static Stream<Arguments> forgedParameters() {
        byte[] bitmap = new byte[(int) ((PARAMETERS + 7) / 8)];
        bitmap[0] = 0b101;
        return Stream.of(
                Arguments.of("2^31 parameters in a few bytes", params(1L << 31, new byte[16], 0, 0),
                        "params.sparse declares 2147483648 parameters (at most 2147483648), a bitmap of 268435456 bytes,"
                                + " but holds 32 bytes"),
                Arguments.of("a negative count", params(-8, new byte[0], 0, 0),
                        "params.sparse declares -8 parameters (at most 2147483648), a bitmap of 0 bytes, but holds 16 bytes"),
                Arguments.of("more parameters than the configuration needs", params(PARAMETERS + 8,
                        new byte[bitmap.length + 1], 0, 0),
                        "holds 266618 parameters but its configuration needs 266610"),
                Arguments.of("stored entries cut short", params(PARAMETERS, bitmap, 2, 1),
                        "params.sparse marks 2 entries in its bitmap, says 2 are stored, and holds 4 bytes of them (4 each)"),
                Arguments.of("a stored count the bitmap does not mark", params(PARAMETERS, bitmap, 3, 3),
                        "params.sparse marks 2 entries in its bitmap, says 3 are stored, and holds 12 bytes of them (4 each)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forgedParameters")
    void aForgedParameterHeaderIsRefusedBeforeItsArraysAreAllocated(String what, byte[] params, String why)
            throws IOException {
        Path file = dir.resolve("forged.sparse.zip");
        try (OutputStream raw = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(raw)) {
            zip.putNextEntry(new ZipEntry("configuration.json"));
            zip.write(lenet300100().getLayerWiseConfigurations().toJson().getBytes(StandardCharsets.UTF_8));
            zip.putNextEntry(new ZipEntry("params.sparse"));
            zip.write(params);
        }

        assertThatThrownBy(() -> SparseModel.read(file)).isInstanceOf(IOException.class).hasMessageEndingWith(why);
    }

    /** The layout {@link SparseModel#write} writes, with {@code stored} floats of 1 where {@code nonZero} says. */
    private static byte[] params(long count, byte[] bitmap, int nonZero, int stored) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeLong(count);
            out.write(bitmap);
            out.writeInt(nonZero);
            for (int i = 0; i < stored; i++) {
                out.writeFloat(1f);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }
}
