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
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fashion-MNIST's IDX files as the data library reads them, found by their names (no catalogue): the committed
 * subset, the Debian package when installed, and every way the files can be damaged, each named with its file and the
 * fix. Nothing half-read is kept.
 */
class FashionMnistFilesTest {

    private static final String INSTALL = "apt-get install -y dataset-fashion-mnist";

    static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void copySubset() throws IOException {
        dir = Files.createDirectories(tmp.resolve("fashion-mnist"));
        for (String name : new String[]{TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS}) {
            Files.copy(Subset.dir().resolve(name), dir.resolve(name));
        }
    }

    /** How messages name a file of the data set: by the data set's name, never the worker's path. */
    private static String shown(String file) {
        return "fashion-mnist/" + file;
    }

    private LoadedDataset load() {
        return LoadedDataset.read(dir);
    }

    @Test
    void theCommittedSubsetHasTwoHundredTrainingAndFiftyTestImagesPerClass() {
        LoadedDataset data = Subset.load();

        assertThat(data.trainSize()).isEqualTo(2000);
        assertThat(data.testSize()).isEqualTo(500);
        assertThat(countsPerClass(data.trainExamples())).containsOnly(200);
        assertThat(countsPerClass(data.testExamples())).containsOnly(50);
    }

    @Test
    void itKeepsTheFileOrderAndScalesPixelsToTheUnitInterval() {
        Examples train = Subset.load().trainExamples();

        // Facts of the original files: the first labels, and the first image's raw pixel sum.
        assertThat(IntStream.range(0, 6).map(train::label).toArray()).containsExactly(9, 0, 0, 3, 0, 2);
        float[] first = Subset.values(train, 0);
        double sum = 0;
        float max = 0;
        for (float pixel : first) {
            sum += pixel;
            max = Math.max(max, pixel);
        }
        assertThat(sum * 255).isCloseTo(76247, offset(1e-2));
        assertThat(max).isEqualTo(1f);
        for (int i = 0; i < train.size(); i++) {
            for (float pixel : Subset.values(train, i)) {
                assertThat(pixel).isBetween(0f, 1f);
            }
        }
    }

    @Test
    void theFullDataSetIsReadFromTheDebianPackage() {
        Path installed = Roots.DEBIAN_DATASETS.resolve("fashion-mnist");
        assumeTrue(Files.isDirectory(installed), "dataset-fashion-mnist is not installed");

        LoadedDataset data = LoadedDataset.read(installed);

        assertThat(data.trainSize()).isEqualTo(60_000);
        assertThat(data.testSize()).isEqualTo(10_000);
        assertThat(countsPerClass(data.testExamples())).containsOnly(1000);
    }

    @Test
    void fashionMnistMissingFromEveryRootSaysHowToInstallIt() {
        DataCache cache = new DataCache(Roots.of("data", List.of(tmp.resolve("empty"))), Long.MAX_VALUE, tmp);

        assertThatThrownBy(() -> cache.get("fashion-mnist", Optional.empty()))
                .isInstanceOf(Roots.UnavailableException.class)
                .hasMessageContaining("is not available on this worker")
                .hasMessageContaining(INSTALL)
                .hasMessageNotContaining(tmp.toString());
    }

    @Test
    void aMissingFileLeavesNoKnownLayout() throws IOException {
        Files.delete(dir.resolve(TEST_LABELS));

        assertThatThrownBy(this::load)
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("data set fashion-mnist has no dataset.yaml and is none of the known layouts")
                .hasMessageContaining("t10k-labels-idx1-ubyte.gz");
    }

    @Test
    void aWrongMagicNumberIsReportedWithTheExpectedOne() throws IOException {
        writeIdx(TRAIN_LABELS, header(Idx.IMAGES_MAGIC, 2000), new byte[2000]);

        assertThatThrownBy(this::load)
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(shown(TRAIN_LABELS))
                .hasMessageContaining("magic number 0x00000803, expected 0x00000801");
    }

    @Test
    void imagesOfAnotherSizeAreRejected() throws IOException {
        writeIdx(TEST_IMAGES, header(Idx.IMAGES_MAGIC, 500, 32, 32), new byte[500 * 32 * 32]);

        assertThatThrownBy(this::load)
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(shown(TEST_IMAGES) + " holds images of 1x32x32 but the training images are"
                        + " 1x28x28");
    }

    @Test
    void aTruncatedFileIsReportedWithHowMuchIsMissing() throws IOException {
        writeIdx(TRAIN_IMAGES, header(Idx.IMAGES_MAGIC, 2000, 28, 28), new byte[1999 * 784]);

        assertThatThrownBy(this::load)
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(shown(TRAIN_IMAGES))
                .hasMessageContaining("truncated")
                .hasMessageContaining("the header announces 2000 images of 1x28x28 but the file ends in image 1999");
    }

    @Test
    void aHeaderCutShortIsReportedAsTruncated() throws IOException {
        writeIdx(TRAIN_LABELS, header(Idx.LABELS_MAGIC), new byte[0]);

        assertThatThrownBy(this::load)
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("truncated: the header ends before its label count");
    }

    @Test
    void aTruncatedGzipStreamIsReported() throws IOException {
        Path file = dir.resolve(TRAIN_IMAGES);
        byte[] whole = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(whole, whole.length / 2));

        assertThatThrownBy(this::load)
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(shown(TRAIN_IMAGES))
                .hasMessageContaining("truncated");
    }

    @Test
    void dataBeyondWhatTheHeaderAnnouncesIsRejected() throws IOException {
        writeIdx(TEST_LABELS, header(Idx.LABELS_MAGIC, 500), new byte[501]);

        assertThatThrownBy(this::load)
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(shown(TEST_LABELS))
                .hasMessageContaining("trailing data");
    }

    @Test
    void imagesAndLabelsOfDifferentCountsAreRejectedNamingBothFiles() throws IOException {
        writeIdx(TEST_LABELS, header(Idx.LABELS_MAGIC, 499), new byte[499]);

        assertThatThrownBy(this::load)
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(shown(TEST_IMAGES) + " holds 500 images but "
                        + shown(TEST_LABELS) + " holds 499 labels");
    }

    @Test
    void aLabelOutsideTheCataloguesTenClassesIsRejected() throws IOException {
        byte[] labels = new byte[500];
        labels[7] = 10;
        writeIdx(TEST_LABELS, header(Idx.LABELS_MAGIC, 500), labels);
        Files.writeString(dir.resolve(Catalogue.FILE), "format: idx\nclasses: 10\n"
                + "train: {images: " + TRAIN_IMAGES + ", labels: " + TRAIN_LABELS + "}\n"
                + "test: {images: " + TEST_IMAGES + ", labels: " + TEST_LABELS + "}\n");

        assertThatThrownBy(this::load)
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("label 10 of example 7 is out of range: the data set has 10 classes, [0, 10)");
    }

    @Test
    void aFileThatIsNotGzipIsRejected() throws IOException {
        Files.write(dir.resolve(TRAIN_LABELS), header(Idx.LABELS_MAGIC, 0));

        assertThatThrownBy(this::load)
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(shown(TRAIN_LABELS))
                .hasMessageContaining("expected a gzipped IDX file");
    }

    private static int[] countsPerClass(Examples examples) {
        int[] counts = new int[examples.shape().classes()];
        for (int i = 0; i < examples.size(); i++) {
            counts[examples.label(i)]++;
        }
        return counts;
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
