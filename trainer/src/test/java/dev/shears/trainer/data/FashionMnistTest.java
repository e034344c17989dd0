package dev.shears.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    private static final String INSTALL = "apt-get install -y dataset-fashion-mnist";

    @TempDir
    Path dir;

    @Test
    void loadsTheCommittedSubsetWithTwoHundredTrainingAndFiftyTestImagesPerClass() {
        FashionMnist data = Subset.load();

        assertThat(data.train().size()).isEqualTo(2000);
        assertThat(data.test().size()).isEqualTo(500);
        assertThat(countsPerClass(data.train())).containsOnly(200);
        assertThat(countsPerClass(data.test())).containsOnly(50);
    }

    @Test
    void keepsTheFileOrderAndScalesPixelsToTheUnitInterval() {
        Split train = Subset.load().train();

        // Facts of the original files: the first labels, and the first image's raw pixel sum.
        assertThat(Arrays.copyOf(train.labels(), 6)).containsExactly(9, 0, 0, 3, 0, 2);
        float[] first = Arrays.copyOf(train.images(), Split.PIXELS);
        double sum = 0;
        float max = 0;
        for (float pixel : first) {
            sum += pixel;
            max = Math.max(max, pixel);
        }
        assertThat(sum * 255).isCloseTo(76247, offset(1e-2));
        assertThat(max).isEqualTo(1f);
        for (float pixel : train.images()) {
            assertThat(pixel).isBetween(0f, 1f);
        }
    }

    @Test
    void loadsTheFullDatasetFromTheDebianPackage() {
        assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "dataset-fashion-mnist is not installed");

        FashionMnist data = FashionMnist.load();

        assertThat(data.train().size()).isEqualTo(60_000);
        assertThat(data.test().size()).isEqualTo(10_000);
        assertThat(countsPerClass(data.test())).containsOnly(1000);
    }

    @Test
    void aMissingDirectoryIsNamedWithTheInstallCommand() {
        Path missing = dir.resolve("nowhere");

        assertThatThrownBy(() -> FashionMnist.load(missing))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("does not exist")
                .hasMessageContaining(INSTALL);
    }

    @Test
    void aMissingFileIsNamed() throws IOException {
        copySubset();
        Files.delete(dir.resolve(FashionMnist.TEST_LABELS));

        assertThatThrownBy(() -> FashionMnist.load(dir))
                .isInstanceOf(DatasetException.class)
                .hasMessageStartingWith(dir.resolve(FashionMnist.TEST_LABELS) + " does not exist")
                .hasMessageContaining(INSTALL);
    }

    @Test
    void aWrongMagicNumberIsReportedWithTheExpectedOne() throws IOException {
        copySubset();
        writeIdx(FashionMnist.TRAIN_LABELS, header(Idx.IMAGES_MAGIC, 2000), new byte[2000]);

        assertThatThrownBy(() -> FashionMnist.load(dir))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(dir.resolve(FashionMnist.TRAIN_LABELS).toString())
                .hasMessageContaining("magic number 0x00000803, expected 0x00000801");
    }

    @Test
    void imagesOfAnotherSizeAreRejected() throws IOException {
        copySubset();
        writeIdx(FashionMnist.TEST_IMAGES, header(Idx.IMAGES_MAGIC, 500, 32, 32), new byte[500 * 32 * 32]);

        assertThatThrownBy(() -> FashionMnist.load(dir))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(dir.resolve(FashionMnist.TEST_IMAGES).toString())
                .hasMessageContaining("images of 1x32x32, expected 1x28x28");
    }

    @Test
    void aTruncatedFileIsReportedWithHowMuchIsMissing() throws IOException {
        copySubset();
        writeIdx(FashionMnist.TRAIN_IMAGES, header(Idx.IMAGES_MAGIC, 2000, 28, 28), new byte[1999 * 784]);

        assertThatThrownBy(() -> FashionMnist.load(dir))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(dir.resolve(FashionMnist.TRAIN_IMAGES).toString())
                .hasMessageContaining("truncated")
                .hasMessageContaining("the header announces 2000 images of 1x28x28 but the file ends in image 1999");
    }

    @Test
    void aHeaderCutShortIsReportedAsTruncated() throws IOException {
        copySubset();
        writeIdx(FashionMnist.TRAIN_LABELS, header(Idx.LABELS_MAGIC), new byte[0]);

        assertThatThrownBy(() -> FashionMnist.load(dir))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("truncated: the header ends before its label count");
    }

    @Test
    void aTruncatedGzipStreamIsReported() throws IOException {
        copySubset();
        Path file = dir.resolve(FashionMnist.TRAIN_IMAGES);
        byte[] whole = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(whole, whole.length / 2));

        assertThatThrownBy(() -> FashionMnist.load(dir))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("truncated");
    }

    @Test
    void dataBeyondWhatTheHeaderAnnouncesIsRejected() throws IOException {
        copySubset();
        writeIdx(FashionMnist.TEST_LABELS, header(Idx.LABELS_MAGIC, 500), new byte[501]);

        assertThatThrownBy(() -> FashionMnist.load(dir))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(dir.resolve(FashionMnist.TEST_LABELS).toString())
                .hasMessageContaining("trailing data");
    }

    @Test
    void imagesAndLabelsOfDifferentCountsAreRejectedNamingBothFiles() throws IOException {
        copySubset();
        writeIdx(FashionMnist.TEST_LABELS, header(Idx.LABELS_MAGIC, 499), new byte[499]);

        assertThatThrownBy(() -> FashionMnist.load(dir))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(dir.resolve(FashionMnist.TEST_IMAGES) + " holds 500 images but "
                        + dir.resolve(FashionMnist.TEST_LABELS) + " holds 499 labels");
    }

    @Test
    void aLabelOutsideTheTenClassesIsRejected() throws IOException {
        copySubset();
        byte[] labels = new byte[500];
        labels[7] = 10;
        writeIdx(FashionMnist.TEST_LABELS, header(Idx.LABELS_MAGIC, 500), labels);

        assertThatThrownBy(() -> FashionMnist.load(dir))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("label 10 of example 7 is out of range: the data set has 10 classes, [0, 10)");
    }

    @Test
    void aFileThatIsNotGzipIsRejected() throws IOException {
        copySubset();
        Files.write(dir.resolve(FashionMnist.TRAIN_LABELS), header(Idx.LABELS_MAGIC, 0));

        assertThatThrownBy(() -> FashionMnist.load(dir))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(dir.resolve(FashionMnist.TRAIN_LABELS).toString())
                .hasMessageContaining("expected a gzipped IDX file");
    }

    private static int[] countsPerClass(Split split) {
        int[] counts = new int[Split.CLASSES];
        for (byte label : split.labels()) {
            counts[label]++;
        }
        return counts;
    }

    private void copySubset() throws IOException {
        for (String name : new String[] {FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS,
                FashionMnist.TEST_IMAGES, FashionMnist.TEST_LABELS}) {
            Files.copy(Subset.dir().resolve(name), dir.resolve(name));
        }
    }

    private static byte[] header(int... ints) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * ints.length);
        IntStream.of(ints).forEach(buffer::putInt);
        return buffer.array();
    }

    private void writeIdx(String name, byte[] header, byte[] body) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dir.resolve(name)))) {
            out.write(header);
            out.write(body);
        }
    }
}
