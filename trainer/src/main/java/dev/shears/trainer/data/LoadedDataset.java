package dev.shears.trainer.data;

import dev.shears.common.data.DataShape;
import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * A data set read once from its directory and then only read from: its training and test
 * examples as stored (see {@link DataCache}), its shape and class names, and the normalisation its
 * catalogue gives, if any. Sessions take {@link Partition}s of it; nothing ever writes into it.
 *
 * <p>Immutable and thread-safe.
 */
public final class LoadedDataset {

    private final String name;
    private final DataShape shape;
    private final List<String> classNames;
    private final Store train;
    private final Store test;
    private final Optional<Normalization> normalization;

    LoadedDataset(String name, DataShape shape, List<String> classNames, Store train, Store test,
            Optional<Normalization> normalization) {
        this.name = name;
        this.shape = shape;
        this.classNames = List.copyOf(classNames);
        this.train = train;
        this.test = test;
        this.normalization = normalization;
    }

    /**
     * Reads the data set in {@code dir} as its catalogue describes it.
     *
     * @param name       how messages name it: its name under the data root
     * @param resize     the shape images are resized to, from the recipe; empty for the
     *                   catalogue's or the images' own (IDX and CSV must match it when given)
     * @param heapBudget the heap bytes its values may take; past them they are written under
     *                   {@code spillDir} and mapped from there
     * @throws DatasetException naming the file and record at fault and the fix; nothing half-read
     *                          is kept
     */
    static LoadedDataset load(Path dir, String name, Optional<InputShape> resize, long heapBudget, Path spillDir) {
        Catalogue cat = Catalogue.of(dir, name);
        Roots inside = Roots.of(name, List.of(dir));
        String fix = " (fix: repair or replace the file in data set " + name + ")";
        return switch (cat.format()) {
            case IDX -> idx(dir, name, cat, inside, resize, heapBudget, spillDir, fix);
            case IMAGES -> images(dir, name, cat, inside, resize, heapBudget, spillDir);
            case CSV -> csv(name, cat, inside, resize, heapBudget, spillDir);
        };
    }

    private static LoadedDataset idx(Path dir, String name, Catalogue cat, Roots inside, Optional<InputShape> resize,
            long budget, Path spillDir, String fix) {
        int bound = cat.classes().orElse(256);
        Path trainImages = file(inside, name, cat.train().data());
        Path testImages = file(inside, name, cat.test().data());
        String trainLabelsName = cat.train().labels().orElseThrow();
        String testLabelsName = cat.test().labels().orElseThrow();
        int[] trainLabels = Idx.readLabels(file(inside, name, trainLabelsName), shown(name, trainLabelsName), bound,
                fix);
        int[] testLabels = Idx.readLabels(file(inside, name, testLabelsName), shown(name, testLabelsName), bound, fix);
        InputShape shape = Idx.imageShape(trainImages, shown(name, cat.train().data()), fix);
        for (Optional<InputShape> given : List.of(cat.shape(), resize)) {
            if (given.isPresent() && !given.get().equals(shape)) {
                throw new DatasetException(shown(name, cat.train().data()) + " holds images of " + shape + ", not "
                        + given.get() + " (fix: IDX images are not resized: give data.shape " + shape
                        + " or none)");
            }
        }
        StoreBuilder trainSink = new StoreBuilder(Store.Type.UINT8, shape.size(), budget, spillDir);
        Idx.readImages(trainImages, shown(name, cat.train().data()), trainLabels, shown(name, trainLabelsName),
                trainSink, fix);
        Store train = trainSink.build();
        StoreBuilder testSink = new StoreBuilder(Store.Type.UINT8, shape.size(), budget - train.heapBytes(), spillDir);
        InputShape testShape = Idx.readImages(testImages, shown(name, cat.test().data()), testLabels,
                shown(name, testLabelsName), testSink, fix);
        if (!testShape.equals(shape)) {
            throw new DatasetException(shown(name, cat.test().data()) + " holds images of " + testShape
                    + " but the training images are " + shape + fix);
        }
        int classes = cat.classes().orElseGet(() -> 1 + Math.max(max(trainLabels), max(testLabels)));
        return dataset(name, shape, classes, cat, train, testSink.build());
    }

    private static LoadedDataset images(Path dir, String name, Catalogue cat, Roots inside, Optional<InputShape> resize,
            long budget, Path spillDir) {
        Path trainDir = directory(inside, name, cat.train().data());
        Path testDir = directory(inside, name, cat.test().data());
        String trainShown = shown(name, cat.train().data());
        String testShown = shown(name, cat.test().data());
        List<String> classes = cat.classNames().isEmpty() ? ImageFolders.classFolders(trainDir, trainShown)
                : cat.classNames();
        Path root = inside.dirs().get(0);
        List<ImageFolders.Entry> trainEntries = ImageFolders.entries(trainDir, trainShown, classes, root);
        List<ImageFolders.Entry> testEntries = ImageFolders.entries(testDir, testShown, classes, root);
        if (trainEntries.isEmpty() || testEntries.isEmpty()) {
            throw new DatasetException("data set " + name + " has no image in " + (trainEntries.isEmpty() ? trainShown
                    : testShown) + " (fix: put PNG or JPEG files in its class folders)");
        }
        InputShape shape = resize.or(cat::shape).orElseGet(() -> ImageFolders.shapeOf(trainEntries.get(0).file(),
                shown(name, cat.train().data() + "/" + trainDir.relativize(trainEntries.get(0).file()))));
        if (!shape.isImage()) {
            throw new DatasetException("data set " + name + " is images, and its shape " + shape + " is not one"
                    + " (fix: shape: [channels, height, width])");
        }
        StoreBuilder trainSink = new StoreBuilder(Store.Type.UINT8, shape.size(), budget, spillDir);
        ImageFolders.read(trainEntries, trainShown, trainDir, shape, trainSink);
        Store train = trainSink.build();
        StoreBuilder testSink = new StoreBuilder(Store.Type.UINT8, shape.size(), budget - train.heapBytes(), spillDir);
        ImageFolders.read(testEntries, testShown, testDir, shape, testSink);
        return dataset(name, shape, classes.size(), new Catalogue(cat.format(), cat.shape(), cat.classes(), classes,
                cat.train(), cat.test(), cat.csv(), cat.normalization()), train, testSink.build());
    }

    private static LoadedDataset csv(String name, Catalogue cat, Roots inside, Optional<InputShape> resize,
            long budget, Path spillDir) {
        Path trainFile = file(inside, name, cat.train().data());
        Path testFile = file(inside, name, cat.test().data());
        String trainShown = shown(name, cat.train().data());
        String testShown = shown(name, cat.test().data());
        CsvTable.Layout layout = CsvTable.layout(trainFile, trainShown, cat.csv());
        CsvTable.Layout testLayout = CsvTable.layout(testFile, testShown, cat.csv());
        if (testLayout.columns() != layout.columns() || testLayout.label() != layout.label()) {
            throw new DatasetException(testShown + " has " + testLayout.columns() + " columns, label in column "
                    + testLayout.label() + ", but " + trainShown + " has " + layout.columns() + ", label in column "
                    + layout.label() + " (fix: both splits have the same columns)");
        }
        InputShape shape = InputShape.features(layout.columns() - 1);
        for (Optional<InputShape> given : List.of(cat.shape(), resize)) {
            if (given.isPresent() && !given.get().equals(shape)) {
                throw new DatasetException(trainShown + " has " + shape + ", not " + given.get()
                        + " (fix: CSV features are not resized: give no data.shape)");
            }
        }
        int bound = cat.classes().orElse(DataShape.MAX_CLASSES);
        List<String> names = CsvTable.names(cat.classNames());
        boolean named = cat.classNames().isEmpty();
        StoreBuilder trainSink = new StoreBuilder(Store.Type.FLOAT32, shape.size(), budget, spillDir);
        CsvTable.read(trainFile, trainShown, layout, names, named, bound, trainSink);
        Store train = trainSink.build();
        StoreBuilder testSink = new StoreBuilder(Store.Type.FLOAT32, shape.size(), budget - train.heapBytes(),
                spillDir);
        CsvTable.read(testFile, testShown, testLayout, names, false, bound, testSink);
        Store test = testSink.build();
        int classes = cat.classes().orElse(names.isEmpty()
                ? 1 + Math.max(max(train), max(test)) : names.size());
        return dataset(name, shape, classes, new Catalogue(cat.format(), cat.shape(), cat.classes(), names,
                cat.train(), cat.test(), cat.csv(), cat.normalization()), train, test);
    }

    private static LoadedDataset dataset(String name, InputShape shape, int classes, Catalogue cat, Store train,
            Store test) {
        DataShape dataShape;
        try {
            dataShape = new DataShape(shape, classes);
        } catch (IllegalArgumentException e) {
            throw new DatasetException("data set " + name + ": " + e.getMessage() + " (fix: check its labels, or give"
                    + " classes in " + Catalogue.FILE + ")");
        }
        if (cat.normalization().isPresent() && cat.normalization().get().channels() != shape.channels()) {
            throw new DatasetException(shown(name, Catalogue.FILE) + ": normalization has "
                    + cat.normalization().get().channels() + " channels for data of " + shape
                    + " (fix: one mean and one std per channel)");
        }
        List<String> names = new ArrayList<>(cat.classNames());
        if (names.isEmpty()) {
            IntStream.range(0, classes).forEach(c -> names.add(Integer.toString(c)));
        }
        return new LoadedDataset(name, dataShape, names, train, test, cat.normalization());
    }

    private static Path file(Roots inside, String name, String file) {
        return inside(inside, name, file, Roots.Kind.FILE);
    }

    private static Path directory(Roots inside, String name, String dir) {
        return inside(inside, name, dir, Roots.Kind.DIRECTORY);
    }

    private static Path inside(Roots inside, String name, String path, Roots.Kind kind) {
        try {
            return inside.resolve(path, kind);
        } catch (Roots.UnavailableException e) {
            String what = kind == Roots.Kind.FILE ? "a file" : "a directory";
            throw new DatasetException(shown(name, path) + " is not " + what + " inside the data set's directory ("
                    + e.detail() + ") (fix: put it there, or correct " + Catalogue.FILE + ")", e);
        }
    }

    private static String shown(String name, String file) {
        return name + "/" + file;
    }

    private static int max(int[] labels) {
        return IntStream.of(labels).max().orElse(0);
    }

    private static int max(Store store) {
        return IntStream.range(0, store.size()).map(store::label).max().orElse(0);
    }

    /**
     * The data set in {@code dir}, read whole onto the heap, outside any worker: for tools and tests that read one data
     * set directly (a worker reads through its {@link DataCache}, under its data roots).
     *
     * @throws DatasetException as {@link DataCache#get}
     */
    public static LoadedDataset read(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        return load(abs, abs.getFileName().toString(), Optional.empty(), Long.MAX_VALUE, abs);
    }

    /** Every training example, none held out, in the files' order. */
    public Examples trainExamples() {
        return new Examples(train, null, shape, classNames);
    }

    /** Every test example, in the files' order. */
    public Examples testExamples() {
        return new Examples(test, null, shape, classNames);
    }

    /** The data set's name under its data root. */
    public String name() {
        return name;
    }

    /** The shape of an example and the number of classes. */
    public DataShape shape() {
        return shape;
    }

    /** The class names, by label: the catalogue's, the class folders', the CSV's, else "0", "1", .... */
    public List<String> classNames() {
        return classNames;
    }

    /** The normalisation the data set's catalogue gives, if any. */
    public Optional<Normalization> normalization() {
        return normalization;
    }

    /** The number of training examples (validation included, before it is held out). */
    public int trainSize() {
        return train.size();
    }

    /** The number of test examples. */
    public int testSize() {
        return test.size();
    }

    /** The heap bytes it holds (its labels only, when streamed). */
    public long heapBytes() {
        return train.heapBytes() + test.heapBytes();
    }

    /** Whether its values stream from a mapped file rather than sitting on the heap. */
    public boolean isStreamed() {
        return train.isMapped() || test.isMapped();
    }

    Store train() {
        return train;
    }

    Store test() {
        return test;
    }

    @Override
    public String toString() {
        return "LoadedDataset[" + name + ", " + shape.input() + ", " + shape.classes() + " classes, " + trainSize()
                + " train, " + testSize() + " test" + (isStreamed() ? ", streamed" : "") + "]";
    }
}
