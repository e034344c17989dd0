package dev.shears.trainer.data;

import static dev.shears.trainer.data.Fixtures.header;
import static dev.shears.trainer.data.Fixtures.idx;
import static dev.shears.trainer.data.Fixtures.plain;
import static dev.shears.trainer.data.Fixtures.png;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.shears.common.data.DataShape;
import dev.shears.common.data.InputShape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each format read into a data set, and bad files refused naming the file, the record and the fix. */
class FormatsTest {

    @TempDir
    Path root;

    private LoadedDataset load(String name) {
        return load(name, Optional.empty());
    }

    private LoadedDataset load(String name, Optional<InputShape> resize) {
        return new DataCache(Roots.of("data", List.of(root)), Long.MAX_VALUE, root.resolve(".spill")).get(name, resize);
    }

    private static float[] values(Examples examples, int i) {
        float[] out = new float[examples.shape().input().size()];
        examples.read(i, out, 0, new byte[out.length]);
        return out;
    }

    private static Examples train(LoadedDataset data) {
        return new Examples(data.train(), null, data.shape(), data.classNames());
    }

    /** A data set {@code name} of two classes, a and b, one black 4x4 image each in train and test. */
    private Path twoBlackImages(String name) throws IOException {
        Path set = root.resolve(name);
        for (String split : List.of("train", "test")) {
            png(set.resolve(split + "/a/1.png"), plain(4, 4, 0), false);
            png(set.resolve(split + "/b/1.png"), plain(4, 4, 0), false);
        }
        return set;
    }

    @Test
    void theCommittedSubsetIsReachableByNameUnderATestRoot() {
        Roots testRoot = Roots.of("data", List.of(Subset.dir().getParent()));
        LoadedDataset subset = new DataCache(testRoot, Long.MAX_VALUE, root).get("fashion-mnist-subset",
                Optional.empty());

        assertThat(subset.shape()).isEqualTo(new DataShape(InputShape.image(1, 28, 28), 10));
        assertThat(subset.trainSize()).isEqualTo(2000);
        assertThat(subset.testSize()).isEqualTo(500);
        assertThat(train(subset).label(0)).as("the first label of the original files").isEqualTo(9);
        double sum = 0;
        for (float pixel : values(train(subset), 0)) {
            sum += pixel;
        }
        assertThat(sum * 255).as("the first image's raw pixel sum").isCloseTo(76247, within(1e-2));
    }

    @Test
    void idxOfAnyImageSizeAndClassCountIsReadFromItsHeader() throws IOException {
        Fixtures.idxSet(root.resolve("tiny"), 12, 5, 3, 5, 4);

        LoadedDataset data = load("tiny");

        assertThat(data.shape()).isEqualTo(new DataShape(InputShape.image(1, 3, 5), 4));
        assertThat(data.classNames()).containsExactly("0", "1", "2", "3");
        assertThat(values(train(data), 7)).containsOnly(7 / 255f);
        assertThat(train(data).label(7)).isEqualTo(3);
    }

    @Test
    void uncompressedIdxWhoseHeaderAnnouncesMoreThanTheFileHoldsIsRefusedBeforeReading() throws IOException {
        Fixtures.idxSet(root.resolve("big"), 10, 5, 4, 4, 2);
        Files.delete(root.resolve("big/train-images-idx3-ubyte.gz"));
        idx(root.resolve("big/train-images-idx3-ubyte"), header(Idx.IMAGES_MAGIC, Integer.MAX_VALUE, 4, 4),
                new byte[10 * 16]);
        Files.delete(root.resolve("big/train-labels-idx1-ubyte.gz"));
        idx(root.resolve("big/train-labels-idx1-ubyte"), header(Idx.LABELS_MAGIC, Integer.MAX_VALUE), new byte[10]);

        assertThatThrownBy(() -> load("big")).isInstanceOf(DatasetException.class)
                .hasMessageStartingWith("big/train-labels-idx1-ubyte is not a valid IDX file: truncated: the header"
                        + " announces 2147483647 labels (2147483655 bytes with the header) but the file has 18 bytes")
                .hasMessageContaining("fix:");
    }

    @Test
    void aTruncatedGzippedIdxNamesTheImageWhereItEnds() throws IOException {
        Fixtures.idxSet(root.resolve("cut"), 10, 5, 4, 4, 2);
        idx(root.resolve("cut/train-images-idx3-ubyte.gz"), header(Idx.IMAGES_MAGIC, 10, 4, 4), new byte[9 * 16 + 3]);

        assertThatThrownBy(() -> load("cut")).isInstanceOf(DatasetException.class)
                .hasMessageContaining("cut/train-images-idx3-ubyte.gz is not a valid IDX file: truncated: the header"
                        + " announces 10 images of 1x4x4 but the file ends in image 9");
    }

    @Test
    void anIdxLabelBeyondTheCataloguesClassesNamesTheExample() throws IOException {
        Fixtures.idxSet(root.resolve("labels"), 10, 5, 2, 2, 3);
        Files.writeString(root.resolve("labels/dataset.yaml"), """
                format: idx
                classes: 2
                train: {images: train-images-idx3-ubyte.gz, labels: train-labels-idx1-ubyte.gz}
                test: {images: t10k-images-idx3-ubyte.gz, labels: t10k-labels-idx1-ubyte.gz}
                """);

        assertThatThrownBy(() -> load("labels")).isInstanceOf(DatasetException.class)
                .hasMessageContaining("labels/train-labels-idx1-ubyte.gz is not a valid IDX file: label 2 of example 2"
                        + " is out of range: the data set has 2 classes, [0, 2)");
    }

    @Test
    void imageFoldersAreDecodedResizedAndStoredRgb() throws IOException {
        Path set = root.resolve("shapes");
        for (String split : List.of("train", "test")) {
            png(set.resolve(split + "/cat/a.png"), plain(8, 6, 0xff0000), false);
            png(set.resolve(split + "/cat/b.png"), plain(8, 6, 0x0000ff), false);
            png(set.resolve(split + "/dog/c.png"), plain(8, 6, 0x00ff00), false);
        }

        LoadedDataset data = load("shapes", Optional.of(InputShape.image(3, 4, 3)));

        assertThat(data.shape()).isEqualTo(new DataShape(InputShape.image(3, 4, 3), 2));
        assertThat(data.classNames()).containsExactly("cat", "dog");
        assertThat(data.trainSize()).isEqualTo(3);
        float[] red = values(train(data), 0);
        assertThat(Arrays.copyOfRange(red, 0, 12)).containsOnly(1f);
        assertThat(Arrays.copyOfRange(red, 12, 36)).containsOnly(0f);
        assertThat(Arrays.copyOfRange(values(train(data), 1), 24, 36)).containsOnly(1f);
        assertThat(train(data).label(2)).isEqualTo(1);
    }

    @Test
    void greyImagesTakeTheirShapeFromTheFirstImage() throws IOException {
        Path set = root.resolve("grey");
        for (String split : List.of("train", "test")) {
            png(set.resolve(split + "/0/a.png"), plain(5, 7, 0x808080), true);
            png(set.resolve(split + "/1/b.png"), plain(5, 7, 0xffffff), true);
        }

        LoadedDataset data = load("grey");

        assertThat(data.shape().input()).isEqualTo(InputShape.image(1, 5, 7));
        assertThat(values(train(data), 0)).containsOnly(128 / 255f);
    }

    @Test
    void aCorruptImageIsNamedWithItsExample() throws IOException {
        Path set = twoBlackImages("broken");
        Files.write(set.resolve("train/b/2.png"), Fixtures.corruptPng(plain(4, 4, 0)));

        assertThatThrownBy(() -> load("broken", Optional.of(InputShape.image(1, 4, 4))))
                .isInstanceOf(DatasetException.class)
                .hasMessageStartingWith("broken/train/b/2.png (example 2 of broken/train) is not a readable image")
                .hasMessageContaining("fix: replace the file with a valid PNG or JPEG, or remove it");
    }

    @Test
    void anImageLinkedFromOutsideTheDataSetIsRefused() throws IOException {
        Path set = twoBlackImages("linked");
        Path outside = png(root.resolve("outside/secret.png"), plain(4, 4, 0), false);
        Files.createSymbolicLink(set.resolve("train/a/2.png"), outside);

        assertThatThrownBy(() -> load("linked")).isInstanceOf(DatasetException.class)
                .hasMessageStartingWith("linked/train/a/2.png leads outside the data set's directory");
    }

    @Test
    void csvHasALabelColumnAndNumericFeatures() throws IOException {
        Path set = Files.createDirectories(root.resolve("iris"));
        Files.writeString(set.resolve("train.csv"), "sepal,petal,label\n5.1,1.4,0\n7.0,4.7,1\n6.3,6.0,2\n");
        Files.writeString(set.resolve("test.csv"), "sepal,petal,label\n5.0,1.5,0\n");

        LoadedDataset data = load("iris");

        assertThat(data.shape()).isEqualTo(new DataShape(InputShape.features(2), 3));
        assertThat(values(train(data), 1)).containsExactly(7.0f, 4.7f);
        assertThat(train(data).label(2)).isEqualTo(2);
    }

    @Test
    void csvClassNamesBecomeLabelsInOrderOfAppearance() throws IOException {
        Path set = Files.createDirectories(root.resolve("named"));
        Files.writeString(set.resolve("train.csv"), "species,x\nversicolor,1\nsetosa,2\nversicolor,3\n");
        Files.writeString(set.resolve("test.csv"), "species,x\nsetosa,4\n");
        Files.writeString(set.resolve("dataset.yaml"),
                "format: csv\ntrain: train.csv\ntest: test.csv\nlabel: species\n");

        LoadedDataset data = load("named");

        assertThat(data.classNames()).containsExactly("versicolor", "setosa");
        assertThat(new Examples(data.test(), null, data.shape(), data.classNames()).label(0)).isEqualTo(1);
    }

    @Test
    void aNonNumericCsvCellIsNamedByLineAndColumn() throws IOException {
        Path set = Files.createDirectories(root.resolve("bad"));
        Files.writeString(set.resolve("train.csv"), "label,a,b\n0,1,2\n1,3,oops\n");
        Files.writeString(set.resolve("test.csv"), "label,a,b\n0,1,2\n");

        assertThatThrownBy(() -> load("bad")).isInstanceOf(DatasetException.class)
                .hasMessage("bad/train.csv: line 3 column 2 (\"b\") holds \"oops\", not a finite number (fix: features"
                        + " are numbers; encode categories as numbers or drop the column)");
    }

    @Test
    void aCsvLabelOutOfTheCataloguesRangeIsNamedByLine() throws IOException {
        Path set = Files.createDirectories(root.resolve("range"));
        Files.writeString(set.resolve("train.csv"), "0,1\n1,2\n");
        Files.writeString(set.resolve("test.csv"), "0,1\n5,2\n");
        Files.writeString(set.resolve("dataset.yaml"), "format: csv\nclasses: 2\ntrain: train.csv\ntest: test.csv\n");

        assertThatThrownBy(() -> load("range")).isInstanceOf(DatasetException.class)
                .hasMessageStartingWith("range/test.csv: line 2 has label 5, out of range: the data set has 2 classes");
    }

    @Test
    void aDataSetThatFailsToLoadIsNotKeptAndLoadsOnceRepaired() throws IOException {
        Path set = Files.createDirectories(root.resolve("fixme"));
        Files.writeString(set.resolve("train.csv"), "0,1\n1,x\n");
        Files.writeString(set.resolve("test.csv"), "0,1\n");
        DataCache cache = new DataCache(Roots.of("data", List.of(root)), Long.MAX_VALUE, root.resolve(".spill"));

        assertThatThrownBy(() -> cache.get("fixme", Optional.empty())).isInstanceOf(DatasetException.class);
        Files.writeString(set.resolve("train.csv"), "0,1\n1,2\n");

        assertThat(cache.get("fixme", Optional.empty()).trainSize()).isEqualTo(2);
        assertThat(cache.heapBytes()).isEqualTo(3 * 4 + 3 * 4);
    }

    @Test
    void aCatalogueWithAnUnknownKeyIsRefusedNamingIt() throws IOException {
        Fixtures.idxSet(root.resolve("typo"), 4, 2, 2, 2, 2);
        Files.writeString(root.resolve("typo/dataset.yaml"), "format: idx\nclases: 2\n");

        assertThatThrownBy(() -> load("typo")).isInstanceOf(DatasetException.class)
                .hasMessageStartingWith("typo/dataset.yaml: clases is not a known key");
    }

    @Test
    void aDirectoryOfNoKnownLayoutSaysWhatIsExpected() throws IOException {
        Files.createDirectories(root.resolve("empty"));

        assertThatThrownBy(() -> load("empty")).isInstanceOf(DatasetException.class)
                .hasMessageContaining("data set empty has no dataset.yaml and is none of the known layouts");
    }
}
