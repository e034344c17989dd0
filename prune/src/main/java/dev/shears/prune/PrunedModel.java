package dev.shears.prune;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/**
 * A DL4J model with its pruning state, saved to and restored from one file.
 *
 * <p>The file is DL4J's own model zip ({@link ModelSerializer}, so DL4J alone still restores the
 * pruned model) with extra entries: {@code shears-pruning.json}, an index of the pruned parameters,
 * and per pruned parameter one entry {@code shears-mask-<i>.bin}, little-endian: the mask as bits
 * in C order of the PyTorch layout (bit {@code i} is bit {@code i % 8} of byte {@code i / 8}, 1 =
 * kept), then {@code _orig} at the pruned positions only, in C order, in the parameter's data type.
 * The unpruned entries of {@code _orig} are the model's parameter itself. A mask with values other
 * than 0 and 1 is stored whole instead of as bits. No Java serialization is involved.
 *
 * <pre>{@code
 * PrunedModel.save(network, pruning, file, false);    // or new PrunedModel(network, pruning).save(file, false)
 * PrunedModel restored = PrunedModel.restore(file, false);
 * restored.pruning().mask("conv1.weight");   // equals the saved mask bit for bit
 * }</pre>
 *
 * @param model a {@link MultiLayerNetwork} or {@link ComputationGraph}
 * @param pruning the pruning state over {@code model}, made by {@code Pruning.of(model)}; once
 *     restored, equal to the saved one bit for bit ({@code isPruned}, {@code mask}, {@code orig},
 *     {@code stateDict}); the methods that made the masks and the random seed are not saved
 */
public record PrunedModel(Model model, Pruning pruning) {
    /** The index entry. */
    public static final String INDEX_ENTRY = PruningIndex.ENTRY;
    private static final ObjectMapper JSON = new ObjectMapper();

    public PrunedModel {
        if (!(model instanceof MultiLayerNetwork || model instanceof ComputationGraph)) {
            throw new IllegalArgumentException("model " + (model == null ? null : model.getClass().getName())
                    + " is neither a MultiLayerNetwork nor a ComputationGraph (fix: pass one of those)");
        }
        java.util.Objects.requireNonNull(pruning, "pruning");
        checkBound(model instanceof ComputationGraph g ? ParameterTable.of(g)
                : ParameterTable.of((MultiLayerNetwork) model), pruning);
    }

    /** The model as a network; throws if the file held a graph. */
    public MultiLayerNetwork network() {
        return ModelKinds.network(model, "restored");
    }

    /** The model as a graph; throws if the file held a network. */
    public ComputationGraph graph() {
        return ModelKinds.graph(model, "restored");
    }

    /**
     * Saves {@code network} and its pruning state to {@code file}, replacing it.
     *
     * @param pruning the state made by {@code Pruning.of(network)}
     * @param saveUpdater whether to save the updater's state too, as in {@link ModelSerializer}
     * @throws IllegalArgumentException when {@code pruning} is over another model
     */
    public static void save(MultiLayerNetwork network, Pruning pruning, File file, boolean saveUpdater)
            throws IOException {
        new PrunedModel(network, pruning).save(file, saveUpdater);
    }

    /** As {@link #save(MultiLayerNetwork, Pruning, File, boolean)}, for a graph. */
    public static void save(ComputationGraph graph, Pruning pruning, File file, boolean saveUpdater)
            throws IOException {
        new PrunedModel(graph, pruning).save(file, saveUpdater);
    }

    /**
     * Restores a model and its pruning state. A model file written by DL4J alone, or saved with
     * nothing pruned, restores with an unpruned {@link Pruning}.
     *
     * @param loadUpdater whether to load the updater's state, as in {@link ModelSerializer}
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException when the file is not a DL4J model, {@link ModelZips} refuses it, or its
     *     pruning entries do not fit the model (the message names the entry)
     */
    public static PrunedModel restore(File file, boolean loadUpdater) throws IOException {
        ModelZips.check(file.toPath());
        try (ZipFile zip = new ZipFile(file)) {
            JsonNode config = readJson(zip, ModelSerializer.CONFIGURATION_JSON, file);
            boolean graph = config.has("vertices");
            if (!graph && !config.has("confs")) {
                throw new IllegalArgumentException(ModelSerializer.CONFIGURATION_JSON + " in " + file
                        + " describes neither a MultiLayerNetwork nor a ComputationGraph (fix: restore a file written by"
                        + " PrunedModel.save or ModelSerializer.writeModel)");
            }
            Model model = graph ? ModelSerializer.restoreComputationGraph(file, loadUpdater)
                    : ModelSerializer.restoreMultiLayerNetwork(file, loadUpdater);
            Pruning pruning = graph ? Pruning.of((ComputationGraph) model) : Pruning.of((MultiLayerNetwork) model);
            String indexEntry = PruningIndex.entryIn(zip.stream().map(ZipEntry::getName).collect(Collectors.toSet()));
            if (indexEntry != null) {
                pruning.loadStateDict(readState(zip, indexEntry, file, pruning, graph));
            }
            return new PrunedModel(model, pruning);
        }
    }

    // ---- writing -------------------------------------------------------------------------------

    /**
     * Saves the model and its pruning state to {@code file}, replacing it; training's changes since
     * the last pruning operation are read back first, as {@link Pruning#stateDict()} does.
     *
     * @param saveUpdater whether to save the updater's state too, as in {@link ModelSerializer}
     */
    public void save(File file, boolean saveUpdater) throws IOException {
        ObjectNode index = JSON.createObjectNode();
        index.put("format", PruningIndex.FORMAT).put("version", PruningIndex.VERSION)
                .put("model", model instanceof ComputationGraph ? "ComputationGraph" : "MultiLayerNetwork");
        ArrayNode entries = index.putArray("parameters");
        Map<String, byte[]> blobs = new LinkedHashMap<>();
        for (String name : pruning.prunedNames()) {
            PrunableParameter p = pruning.parameter(name);
            INDArray orig = pruning.orig(name); // reads training's changes back: the model holds orig * mask
            INDArray mask = pruning.mask(name);
            String entry = "shears-mask-" + blobs.size() + ".bin";
            Encoded enc = encode(name, orig, mask);
            blobs.put(entry, enc.bytes());
            ObjectNode e = entries.addObject();
            e.put("name", p.name()).put("key", p.key()).put("dtype", orig.dataType().name())
                    .put("mask", enc.bits() ? "bits" : "dense").put("pruned", enc.pruned()).put("entry", entry);
            ArrayNode shape = e.putArray("shape");
            Arrays.stream(p.shape()).forEach(shape::add);
        }
        // DL4J's entries as ModelSerializer writes them, then ours. The names have no folder: DL4J's reader
        // refuses folder entries.
        Map<String, byte[]> extra = new LinkedHashMap<>();
        extra.put(INDEX_ENTRY, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
        extra.putAll(blobs);
        Path target = file.toPath().toAbsolutePath();
        Path tmp = Files.createTempFile(target.getParent(), ".shears-save-", ".tmp");
        try {
            ModelFileWriter.write(model, saveUpdater, extra, tmp);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Refuses a pruning state made over another model: its views must be this model's memory. */
    private static void checkBound(ParameterTable table, Pruning pruning) {
        for (PrunableParameter p : table.parameters()) {
            INDArray mine = table.view(p);
            INDArray theirs = pruning.parameters().contains(p) ? pruning.weight(p.name()) : null;
            if (theirs == null || theirs.data().address() != mine.data().address()
                    || theirs.offset() != mine.offset()) {
                throw new IllegalArgumentException("the pruning state is not over this model: its parameter "
                        + p.name()
                        + " is not the model's (fix: pair the model with the Pruning made by Pruning.of(model))");
            }
        }
    }

    private record Encoded(byte[] bytes, boolean bits, long pruned) {
    }

    private static Encoded encode(String name, INDArray orig, INDArray mask) {
        int size = Element.of(orig.dataType(), name).bytes;
        double[] m = Element.doubles(mask);
        boolean bits = true;
        int pruned = 0;
        for (double x : m) {
            bits &= x == 1.0 || Double.doubleToRawLongBits(x) == 0L;
            pruned += x == 1.0 ? 0 : 1;
        }
        int n = m.length;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(PruningIndex.Parameter.entryBytes(n, size, bits, pruned)));
        if (bits) {
            for (int i = 0; i < n; i += 8) {
                int b = 0;
                for (int j = 0; j < 8 && i + j < n; j++) {
                    b |= m[i + j] == 1.0 ? 1 << j : 0;
                }
                out.put((byte) b);
            }
        } else {
            out.put(Element.bytes(mask));
        }
        byte[] o = Element.bytes(orig);
        for (int i = 0; i < n; i++) {
            if (m[i] != 1.0) {
                out.put(o, i * size, size);
            }
        }
        return new Encoded(out.array(), bits, pruned);
    }

    // ---- reading -------------------------------------------------------------------------------

    /** The pruning state; {@link ModelZips#check} has checked the index and the size of every entry it names. */
    private static Map<String, INDArray> readState(ZipFile zip, String indexEntry, File file, Pruning pruning,
            boolean graph) throws IOException {
        PruningIndex.Index index = PruningIndex.read(zip, indexEntry, why -> new IllegalArgumentException("model file "
                + file + " " + why + " (fix: the file was edited or damaged; save the model again)"));
        String kind = graph ? "ComputationGraph" : "MultiLayerNetwork";
        if (!kind.equals(index.model())) {
            throw new IllegalArgumentException(indexEntry + " in " + file + " was written for a " + index.model()
                    + " but the file holds a " + kind
                    + " (fix: the file was edited or assembled by hand; save it again)");
        }
        Map<String, INDArray> state = new LinkedHashMap<>();
        for (PruningIndex.Parameter e : index.parameters()) {
            String entry = e.entry();
            String name = e.name();
            if (!pruning.parameters().stream().anyMatch(p -> p.name().equals(name))) {
                throw new IllegalArgumentException(indexEntry + " names parameter '" + name + "' (" + entry
                        + "), which the model in " + file + " does not have (fix: the file was edited; save it again)");
            }
            PrunableParameter p = pruning.parameter(name);
            INDArray param = pruning.weight(name);
            long[] shape = e.shape();
            if (!Arrays.equals(shape, p.shape()) || !param.dataType().name().equals(e.dtype())) {
                throw new IllegalArgumentException(entry + " holds " + name + " as " + e.dtype()
                        + Arrays.toString(shape) + " but the model's is " + param.dataType()
                        + Arrays.toString(p.shape())
                        + " (fix: the index does not match the model; save it again)");
            }
            int size = Element.of(param.dataType(), entry).bytes;
            boolean bits = e.bits();
            long pruned = e.pruned();
            int n = e.elements();
            ByteBuffer in;
            try (InputStream s = zip.getInputStream(zip.getEntry(entry))) {
                in = ByteBuffer.wrap(s.readAllBytes());
            }
            INDArray mask;
            if (bits) {
                double[] m = new double[n];
                for (int i = 0; i < n; i++) {
                    m[i] = (in.get(i >> 3) >> (i & 7) & 1) == 1 ? 1.0 : 0.0;
                }
                in.position((n + 7) / 8);
                mask = Nd4j.createFromArray(m).castTo(param.dataType());
            } else {
                byte[] raw = new byte[n * size];
                in.get(raw);
                mask = Element.array(raw, param.dataType());
            }
            double[] m = Element.doubles(mask);
            long found = Arrays.stream(m).filter(x -> x != 1.0).count();
            if (found != pruned) {
                throw new IllegalArgumentException(entry + " in " + file + ": its mask for " + name + " prunes " + found
                        + " entries but the index says " + pruned
                        + " (fix: the file is damaged; save the model again)");
            }
            byte[] o = Element.bytes(param);
            for (int i = 0; i < n; i++) {
                if (m[i] != 1.0) {
                    in.get(o, i * size, size);
                }
            }
            mask = mask.reshape('c', shape);
            INDArray orig = Element.array(o, param.dataType()).reshape('c', shape);
            state.put(name + "_orig", orig);
            state.put(name + "_mask", mask);
        }
        return state;
    }

    private static JsonNode readJson(ZipFile zip, String name, File file) throws IOException {
        ZipEntry entry = zip.getEntry(name);
        if (entry == null) {
            throw new IllegalArgumentException(file + " has no entry " + name + ", so it is not a DL4J model file"
                    + " (fix: restore a file written by PrunedModel.save or ModelSerializer.writeModel)");
        }
        try (InputStream in = zip.getInputStream(entry)) {
            return JSON.readTree(in);
        } catch (org.nd4j.shade.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(name + " in " + file + " is not valid JSON: " + e.getOriginalMessage()
                    + " (fix: the file is damaged; save the model again)", e);
        }
    }

    /** Raw little-endian element bytes, for the data types a parameter may have. */
    private enum Element {
        FLOAT(4), DOUBLE(8);

        final int bytes;

        Element(int bytes) {
            this.bytes = bytes;
        }

        static Element of(DataType type, String what) {
            return switch (type) {
                case FLOAT -> FLOAT;
                case DOUBLE -> DOUBLE;
                default -> throw new IllegalArgumentException(what + " has data type " + type
                        + ", which PrunedModel does not store (fix: use a FLOAT or DOUBLE model)");
            };
        }

        /** The array's values in C order, as doubles. */
        static double[] doubles(INDArray a) {
            INDArray c = a.castTo(DataType.DOUBLE).dup('c');
            return c.reshape(c.length()).toDoubleVector();
        }

        /** The array's elements in C order. */
        static byte[] bytes(INDArray a) {
            INDArray c = a.dup('c');
            c = c.reshape(c.length());
            ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(c.length() * of(a.dataType(), "array").bytes))
                    .order(ByteOrder.LITTLE_ENDIAN);
            if (a.dataType() == DataType.FLOAT) {
                out.asFloatBuffer().put(c.toFloatVector());
            } else {
                out.asDoubleBuffer().put(c.toDoubleVector());
            }
            return out.array();
        }

        /** A 1-D array of {@code type} from elements in C order. */
        static INDArray array(byte[] raw, DataType type) {
            ByteBuffer in = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            if (type == DataType.FLOAT) {
                float[] v = new float[raw.length / 4];
                in.asFloatBuffer().get(v);
                return Nd4j.createFromArray(v);
            }
            double[] v = new double[raw.length / 8];
            in.asDoubleBuffer().get(v);
            return Nd4j.createFromArray(v);
        }
    }
}
