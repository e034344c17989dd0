package dev.shears.trainer.data;

import dev.shears.common.data.InputShape;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;
import org.datavec.image.loader.NativeImageLoader;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reads a split written as image files in class folders ({@code train/<class>/<image>.png}) with
 * DataVec's {@link NativeImageLoader} (OpenCV): PNG or JPEG, decoded, converted to grey or colour
 * and resized (bilinear) to the data set's shape; colour is stored RGB (OpenCV decodes BGR).
 * Folders and files are taken in name order, so the examples' order is the same on every machine.
 * Hidden files (a leading '.') are skipped.
 */
final class ImageFolders {

    private static final List<String> EXTENSIONS = List.of("png", "jpg", "jpeg");

    private ImageFolders() {}

    /** An image file and its class. */
    record Entry(Path file, int label) {
    }

    /** The class folders of {@code dir}, in name order. */
    static List<String> classFolders(Path dir, String shown) {
        List<String> names = new ArrayList<>();
        for (Path p : list(dir, shown)) {
            if (Files.isDirectory(p)) {
                names.add(p.getFileName().toString());
            } else {
                throw new DatasetException(shown + "/" + p.getFileName() + " is not a class folder: " + shown
                        + " holds one directory of images per class (fix: move or remove the file)");
            }
        }
        if (names.size() < 2) {
            throw new DatasetException(shown + " holds " + names.size() + " class folders: a classifier needs at least"
                    + " two (fix: one directory of images per class, e.g. " + shown + "/cat, " + shown + "/dog)");
        }
        return names;
    }

    /**
     * The images of {@code dir}, class folder by class folder, labelled by the position of the
     * folder's name in {@code classes}; each file's real path must lie inside {@code root}.
     */
    static List<Entry> entries(Path dir, String shown, List<String> classes, Path root) {
        List<Entry> entries = new ArrayList<>();
        for (Path folder : list(dir, shown)) {
            String name = folder.getFileName().toString();
            int label = classes.indexOf(name);
            if (label < 0 || !Files.isDirectory(folder)) {
                throw new DatasetException(shown + "/" + name + " is not one of the classes " + classes + " (fix: every"
                        + " split has the training split's class folders, or give classNames in " + Catalogue.FILE
                        + ")");
            }
            for (Path file : list(folder, shown + "/" + name)) {
                String fileName = file.getFileName().toString();
                String where = shown + "/" + name + "/" + fileName;
                int dot = fileName.lastIndexOf('.');
                String ext = dot < 0 ? "" : fileName.substring(dot + 1).toLowerCase(Locale.ROOT);
                if (!EXTENSIONS.contains(ext) || !Files.isRegularFile(file)) {
                    throw new DatasetException(
                            where + " is not a PNG or JPEG file (fix: convert it to PNG, or remove it)");
                }
                try {
                    if (!file.toRealPath().startsWith(root)) {
                        throw new DatasetException(where + " leads outside the data set's directory (fix: copy the file"
                                + " in instead of linking to it)");
                    }
                } catch (IOException e) {
                    throw new DatasetException(where + " cannot be read: " + e.getMessage(), e);
                }
                entries.add(new Entry(file, label));
            }
        }
        return entries;
    }

    /** The shape of {@code file}: its size, and 1 channel if grey, 3 if colour. */
    static InputShape shapeOf(Path file, String shown) {
        Mat mat = opencv_imgcodecs.imread(file.toString(), opencv_imgcodecs.IMREAD_UNCHANGED);
        try {
            if (mat.empty()) {
                throw notAnImage(shown, "OpenCV cannot decode it");
            }
            return InputShape.image(mat.channels() <= 2 ? 1 : 3, mat.rows(), mat.cols());
        } finally {
            mat.close();
        }
    }

    /** Decodes every entry at {@code shape} into {@code sink}, in order. */
    static void read(List<Entry> entries, String shown, Path dir, InputShape shape, StoreBuilder sink) {
        NativeImageLoader loader = new NativeImageLoader(shape.height(), shape.width(), shape.channels());
        int size = shape.size();
        int plane = shape.channelSize();
        byte[] pixels = new byte[size];
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            String where = shown + "/" + dir.relativize(e.file());
            INDArray image;
            try {
                image = loader.asMatrix(new File(e.file().toString()));
            } catch (IOException | RuntimeException ex) {
                throw notAnImage(where + " (example " + i + " of " + shown + ")", ex.getMessage());
            }
            float[] values = image.data().asFloat();
            image.close();
            if (values.length != size) {
                throw notAnImage(where, "it decodes to " + values.length + " values, expected " + shape);
            }
            for (int c = 0; c < shape.channels(); c++) {
                int from = (shape.channels() == 3 ? 2 - c : c) * plane;
                for (int j = 0; j < plane; j++) {
                    pixels[c * plane + j] = (byte) Math.round(values[from + j]);
                }
            }
            sink.add(pixels, 0, e.label());
        }
    }

    private static DatasetException notAnImage(String where, String why) {
        return new DatasetException(where + " is not a readable image: " + why + " (fix: replace the file with a"
                + " valid PNG or JPEG, or remove it)");
    }

    private static List<Path> list(Path dir, String shown) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new DatasetException(shown + " cannot be listed: " + e.getMessage(), e);
        }
    }
}
