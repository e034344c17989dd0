package dev.shears.trainer.publish;

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
import java.util.zip.ZipInputStream;
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
     * Reads a model written by {@link #write}, of the kind written.
     *
     * @throws IOException when the file is missing, truncated or not this format (the message says which)
     */
    public static Model read(Path file) throws IOException {
        String config = null;
        float[] params = null;
        try (ZipInputStream zip = new ZipInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (CONFIG.equals(e.getName())) {
                    config = new String(readLimited(zip, 16 << 20), StandardCharsets.UTF_8);
                } else if (PARAMS.equals(e.getName())) {
                    params = readParams(new DataInputStream(zip), file);
                }
            }
        }
        if (config == null || params == null) {
            throw new IOException(file + " is not a Shears sparse model: it lacks " + (config == null ? CONFIG : PARAMS));
        }
        Model net;
        if (Json.MAPPER.readTree(config).has("vertices")) { // a graph's configuration; a network's has "confs"
            ComputationGraph graph = new ComputationGraph(ComputationGraphConfiguration.fromJson(config));
            graph.init();
            net = graph;
        } else {
            MultiLayerNetwork network = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(config));
            network.init();
            net = network;
        }
        if (net.numParams() != params.length) {
            throw new IOException(file + " holds " + params.length + " parameters but its configuration needs "
                    + net.numParams());
        }
        net.setParams(Nd4j.create(params, new long[] {1, params.length}, 'c').castTo(net.params().dataType()));
        return net;
    }

    private static float[] readParams(DataInputStream in, Path file) throws IOException {
        if (in.readInt() != MAGIC) {
            throw new IOException(file + ": " + PARAMS + " does not start with the Shears sparse magic number");
        }
        long n = in.readLong();
        if (n < 0 || n > MAX_PARAMS) {
            throw new IOException(file + ": parameter count " + n + " is out of range [0, " + MAX_PARAMS + "]");
        }
        byte[] bits = new byte[(int) ((n + 7) / 8)];
        in.readFully(bits);
        int nonZero = in.readInt();
        float[] values = new float[(int) n];
        int count = 0;
        for (int i = 0; i < n; i++) {
            if ((bits[i >>> 3] & (1 << (i & 7))) != 0) {
                if (++count > nonZero) {
                    throw new IOException(file + ": the bitmap marks more entries than the " + nonZero + " stored");
                }
                values[i] = in.readFloat();
            }
        }
        if (count != nonZero) {
            throw new IOException(file + ": the bitmap marks " + count + " entries but " + nonZero + " are stored");
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
