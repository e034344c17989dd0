package dev.shears.trainer.publish;

import dev.shears.prune.ModelZips;
import dev.shears.trainer.checkpoint.Json;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A sparse encoding of a model's parameters, for either DL4J kind: the configuration as DL4J's JSON (a
 * {@link MultiLayerNetwork}'s or a {@link ComputationGraph}'s), then the flat parameter vector as a bitmap of its non-zero entries followed by those entries as float32. At
 * sparsity s it takes about {@code (1 - s) * 4 + 1/8} bytes per parameter instead of 4. Plain data
 * only: reading it never deserialises Java objects.
 */
public final class SparseModel {
    private static final String CONFIG = "configuration.json";
    private static final String PARAMS = "params.sparse";
    private static final int MAGIC = 0x53485350; // "SHSP"
    private static final long MAX_PARAMS = 1L << 31;

    private SparseModel() {}

    /** Writes {@code model} (a {@link MultiLayerNetwork} or a {@link ComputationGraph}) to {@code file}, replacing it. */
    public static void write(Model model, Path file) throws IOException {
        String json = model instanceof ComputationGraph graph ? graph.getConfiguration().toJson()
                : ((MultiLayerNetwork) model).getLayerWiseConfigurations().toJson();
        INDArray params = model.params().castTo(DataType.FLOAT);
        float[] values = params.dup('c').data().asFloat();
        try (ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            zip.putNextEntry(new ZipEntry(CONFIG));
            zip.write(json.getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry(PARAMS));
            DataOutputStream out = new DataOutputStream(zip);
            out.writeInt(MAGIC);
            out.writeLong(values.length);
            byte[] bits = new byte[(values.length + 7) / 8];
            int nonZero = 0;
            for (int i = 0; i < values.length; i++) {
                if (values[i] != 0f) {
                    bits[i >>> 3] |= (byte) (1 << (i & 7));
                    nonZero++;
                }
            }
            out.write(bits);
            out.writeInt(nonZero);
            for (float v : values) {
                if (v != 0f) {
                    out.writeFloat(v);
                }
            }
            out.flush();
            zip.closeEntry();
        }
    }

    /**
     * Reads a model written by {@link #write}, of the kind written. Before it allocates anything for the parameters it
     * checks that the parameter count, the bitmap and the stored entries agree with the bytes the entry holds and with
     * the configuration, so that a forged header costs no more than the bytes that carry it (up to 32 floats per bitmap
     * byte, the encoding of a parameter that is zero).
     *
     * @throws IOException when the file is missing, truncated or not this format (the message says which)
     * @throws IllegalArgumentException when {@link ModelZips} refuses it
     */
    public static Model read(Path file) throws IOException {
        ModelZips.check(file);
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry config = zip.getEntry(CONFIG);
            ZipEntry params = zip.getEntry(PARAMS);
            if (config == null || params == null) {
                throw new IOException(
                        file + " is not a Shears sparse model: it lacks " + (config == null ? CONFIG : PARAMS));
            }
            String json;
            try (InputStream in = zip.getInputStream(config)) {
                json = new String(readLimited(in, 16 << 20), StandardCharsets.UTF_8);
            }
            boolean graph = Json.MAPPER.readTree(json).has("vertices"); // a network's configuration has "confs"
            ComputationGraphConfiguration graphConf = graph ? ComputationGraphConfiguration.fromJson(json) : null;
            MultiLayerConfiguration netConf = graph ? null : MultiLayerConfiguration.fromJson(json);
            long needed = graph ? graphConf.getVertices().values().stream().mapToLong(v -> v.numParams(true)).sum()
                    : netConf.getConfs().stream().mapToLong(c -> c.getLayer().initializer().numParams(c)).sum();
            float[] values;
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(zip.getInputStream(params)))) {
                values = readParams(in, params.getSize(), needed, file);
            }
            Model model;
            if (graph) {
                ComputationGraph g = new ComputationGraph(graphConf);
                g.init();
                model = g;
            } else {
                MultiLayerNetwork net = new MultiLayerNetwork(netConf);
                net.init();
                model = net;
            }
            model.setParams(Nd4j.create(values, new long[]{1, values.length}, 'c').castTo(model.params().dataType()));
            return model;
        }
    }

    /** The parameters of an entry of {@code size} bytes, whose configuration needs {@code needed}. */
    private static float[] readParams(DataInputStream in, long size, long needed, Path file) throws IOException {
        if (in.readInt() != MAGIC) {
            throw new IOException(file + ": " + PARAMS + " does not start with the Shears sparse magic number");
        }
        long n = in.readLong();
        long header = Integer.BYTES + Long.BYTES + Integer.BYTES; // magic, parameter count, stored count
        if (n < 0 || n > MAX_PARAMS || header + (n + 7) / 8 > size) {
            throw new IOException(file + ": " + PARAMS + " declares " + n + " parameters (at most " + MAX_PARAMS
                    + "), a bitmap of " + (n + 7) / 8 + " bytes, but holds " + size + " bytes");
        }
        if (n != needed) {
            throw new IOException(file + " holds " + n + " parameters but its configuration needs " + needed);
        }
        byte[] bits = new byte[(int) ((n + 7) / 8)];
        in.readFully(bits);
        int nonZero = in.readInt();
        long marked = 0;
        for (int i = 0; i < n; i++) {
            marked += (bits[i >>> 3] >> (i & 7)) & 1;
        }
        if (marked != nonZero || header + bits.length + (long) Float.BYTES * nonZero != size) {
            throw new IOException(file + ": " + PARAMS + " marks " + marked + " entries in its bitmap, says " + nonZero
                    + " are stored, and holds " + (size - header - bits.length) + " bytes of them (4 each)");
        }
        float[] values = new float[(int) n];
        for (int i = 0; i < n; i++) {
            if ((bits[i >>> 3] & (1 << (i & 7))) != 0) {
                values[i] = in.readFloat();
            }
        }
        return values;
    }

    private static byte[] readLimited(InputStream in, int limit) throws IOException {
        byte[] data = in.readNBytes(limit + 1);
        if (data.length > limit) {
            throw new IOException("entry larger than " + limit + " bytes");
        }
        return data;
    }

}
