package dev.shears.trainer.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.datavec.api.records.Record;
import org.datavec.api.records.metadata.RecordMetaDataLine;
import org.datavec.api.records.reader.impl.csv.CSVRecordReader;
import org.datavec.api.split.FileSplit;
import org.datavec.api.writable.Writable;

/**
 * Reads a split written as CSV with DataVec's {@link CSVRecordReader}: one example per line, one
 * label column (whole numbers from 0, or class names), every other column a finite number. The
 * first line is a header when the catalogue says so, or, by default, when some column holds a
 * number on the second line but not on the first.
 */
final class CsvTable {

    private CsvTable() {}

    /** The columns of a file: whether it has a header, the header's names, the label column. */
    record Layout(boolean header, List<String> names, int columns, int label) {
    }

    /** Reads the first lines of {@code file} to find its layout. */
    static Layout layout(Path file, String shown, Catalogue.Csv csv) {
        String first;
        String second;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            first = in.readLine();
            second = in.readLine();
        } catch (IOException e) {
            throw new DatasetException(shown + " cannot be read: " + e.getMessage() + " (fix: a UTF-8 CSV file)", e);
        }
        if (first == null) {
            throw new DatasetException(shown + " is empty (fix: one example per line, a label column and features)");
        }
        List<String> cells = Arrays.stream(first.split(",", -1)).map(String::trim).toList();
        boolean header = csv.header().orElseGet(() -> second != null && sniffHeader(cells,
                Arrays.stream(second.split(",", -1)).map(String::trim).toList()));
        int label;
        if (csv.label().chars().allMatch(Character::isDigit)) {
            label = Integer.parseInt(csv.label());
        } else if (header) {
            label = cells.indexOf(csv.label());
            if (label < 0) {
                throw new DatasetException(shown + " has no column \"" + csv.label() + "\" in its header " + cells
                        + " (fix: set label: <column name or index> in " + Catalogue.FILE + ")");
            }
        } else if (csv.equals(Catalogue.Csv.DEFAULT)) {
            label = 0;
        } else {
            throw new DatasetException(shown + " has no header to find column \"" + csv.label() + "\" in (fix: give"
                    + " the label column's index, e.g. label: 0, in " + Catalogue.FILE + ")");
        }
        if (label >= cells.size() || cells.size() < 2) {
            throw new DatasetException(shown + " has " + cells.size() + " columns and the label in column " + label
                    + ": it needs the label and at least one feature (fix: check the delimiter, a comma, and label)");
        }
        return new Layout(header, header ? cells : List.of(), cells.size(), label);
    }

    private static boolean sniffHeader(List<String> first, List<String> second) {
        for (int i = 0; i < Math.min(first.size(), second.size()); i++) {
            if (isNumber(second.get(i)) && !isNumber(first.get(i))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * Reads every line of {@code file} into {@code sink}: features as floats, the label as a class
     * index; {@code classNames} maps named labels (new names are added, in order of appearance,
     * when {@code growNames}).
     *
     * @throws DatasetException naming the file, the line, the column and the value of the first bad cell
     */
    static void read(Path file, String shown, Layout layout, List<String> classNames, boolean growNames,
            int classes, StoreBuilder sink) {
        float[] features = new float[layout.columns() - 1];
        CSVRecordReader reader = new CSVRecordReader(layout.header() ? 1 : 0, ',');
        try {
            reader.initialize(new FileSplit(file.toFile()));
            while (reader.hasNext()) {
                Record record = reader.nextRecord();
                int line = ((RecordMetaDataLine) record.getMetaData()).getLineNumber() + 1;
                List<Writable> cells = record.getRecord();
                if (cells.size() != layout.columns()) {
                    throw bad(shown, line, "has " + cells.size() + " cells, the first line " + layout.columns(),
                            "every line has the same columns");
                }
                int f = 0;
                int label = -1;
                for (int c = 0; c < cells.size(); c++) {
                    String cell = cells.get(c).toString().trim();
                    if (c == layout.label()) {
                        label = label(cell, shown, line, classNames, growNames, classes);
                        continue;
                    }
                    float v;
                    try {
                        v = Float.parseFloat(cell);
                    } catch (NumberFormatException e) {
                        v = Float.NaN;
                    }
                    if (!Float.isFinite(v)) {
                        throw bad(shown, line, "column " + column(layout, c) + " holds \"" + cell + "\", not a finite"
                                + " number", "features are numbers; encode categories as numbers or drop the column");
                    }
                    features[f++] = v;
                }
                sink.add(features, label);
            }
        } catch (IOException | InterruptedException e) {
            throw new DatasetException(shown + " cannot be read: " + e.getMessage(), e);
        } catch (IllegalStateException | UnsupportedOperationException e) {
            throw new DatasetException(shown + " is not valid CSV: " + e.getMessage() + " (fix: check its quotes)", e);
        } finally {
            try {
                reader.close();
            } catch (IOException e) {
                // nothing was written: nothing to lose
            }
        }
        if (sink.size() == 0) {
            throw new DatasetException(shown + " holds no example (fix: one example per line)");
        }
    }

    private static int label(String cell, String shown, int line, List<String> names, boolean grow, int classes) {
        if (!cell.isEmpty() && cell.chars().allMatch(Character::isDigit) && names.isEmpty()) {
            int label = cell.length() > 6 ? Integer.MAX_VALUE : Integer.parseInt(cell);
            if (label >= classes) {
                throw bad(shown, line, "has label " + cell + ", out of range: the data set has " + classes
                        + " classes, [0, " + classes + ")",
                        "labels are class indices from 0; set classes in "
                                + Catalogue.FILE + " if it has more");
            }
            return label;
        }
        int label = names.indexOf(cell);
        if (label < 0 && grow && !cell.isEmpty() && names.size() < classes) {
            names.add(cell);
            label = names.size() - 1;
        }
        if (label < 0) {
            throw bad(shown, line, "has label \"" + cell + "\", which is not one of the classes " + names,
                    "labels are class indices from 0 or the names of the training split's classes");
        }
        return label;
    }

    private static String column(Layout layout, int c) {
        return layout.header() ? c + " (\"" + layout.names().get(c) + "\")" : Integer.toString(c);
    }

    private static DatasetException bad(String shown, int line, String what, String fix) {
        return new DatasetException(shown + ": line " + line + " " + what + " (fix: " + fix + ")");
    }

    /** A mutable list for class names read from a file. */
    static List<String> names(List<String> given) {
        return new ArrayList<>(given);
    }
}
