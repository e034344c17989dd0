package dev.shears.bench;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MEAN;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_VARIANCE;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_scale;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_shift;

import dev.shears.common.process.SerialFilter;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.batch_normalization_backward;
import org.bytedeco.dnnl.batch_normalization_forward;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;

/**
 * oneDNN's batch normalization of DL4J's NCHW arrays in each layout it can take, as {@code OneDnnBatchNorm} would run
 * it: one training forward and one backward pass of batch 128 on ResNet-20's and MobileNetV2's shapes, the reorders
 * from and to NCHW included, and how far the batch's variance lands from double precision's. Prints one line per
 * shape and layout: the implementation oneDNN picked, the forward and backward milliseconds (median of 30 after 5 of
 * warm-up), and the variance's largest and mean relative error over the channels (inputs Gaussian around 0.5).
 *
 * <pre>OMP_NUM_THREADS=1 taskset -c 0 java -XX:ActiveProcessorCount=1 -cp bench/target/benchmarks.jar \
 *     dev.shears.bench.BatchNormLayouts</pre>
 */
public final class BatchNormLayouts {
    private static final int WARMUP = 5;
    private static final int RUNS = 30;
    private static final List<long[]> SHAPES = List.of(new long[]{128, 16, 28, 28}, new long[]{128, 32, 14, 14},
            new long[]{128, 64, 7, 7}, new long[]{128, 8, 28, 28}, new long[]{128, 48, 14, 14},
            new long[]{128, 144, 7, 7}, new long[]{128, 24, 7, 7}, new long[]{128, 336, 2, 2});

    private final engine cpu = new engine(engine.kind.cpu, 0);
    private final stream stream = new stream(cpu);

    private BatchNormLayouts() {}

    public static void main(String[] args) {
        SerialFilter.install();
        BatchNormLayouts bench = new BatchNormLayouts();
        System.out.printf("%-18s %-8s %-28s %9s %9s %12s %12s%n", "shape", "layout", "implementation", "fwd ms",
                "bwd ms", "var err max", "var err mean");
        for (long[] shape : SHAPES) {
            memory.format_tag blocked = shape[1] % 16 == 0 ? memory.format_tag.nChw16c : memory.format_tag.nChw8c;
            for (memory.format_tag tag : List.of(memory.format_tag.nchw, memory.format_tag.nhwc, blocked)) {
                bench.run(shape, tag);
            }
        }
    }

    private memory.desc desc(long[] dims, memory.format_tag tag) {
        return new memory.desc(dims, memory.data_type.f32, tag);
    }

    private static FloatBuffer floats(memory m) {
        return m.get_data_handle().capacity(m.get_desc().get_size()).asByteBuffer().order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    private void run(long[] shape, memory.format_tag tag) {
        memory.desc plain = desc(shape, memory.format_tag.nchw);
        memory.desc data = desc(shape, tag);
        memory.desc channels = desc(new long[]{shape[1]}, memory.format_tag.a);
        int flags = dnnl_use_scale | dnnl_use_shift;
        batch_normalization_forward.primitive_desc fd = new batch_normalization_forward.primitive_desc(
                new batch_normalization_forward.desc(prop_kind.forward_training.value, data, 1e-5f, flags), cpu);
        primitive forward = new batch_normalization_forward(fd);
        primitive backward = new batch_normalization_backward(new batch_normalization_backward.primitive_desc(
                new batch_normalization_backward.desc(prop_kind.backward.value, data, data, 1e-5f, flags), cpu, fd));

        memory x = new memory(plain, cpu);
        memory dy = new memory(plain, cpu);
        Random random = new Random(1);
        FloatBuffer xs = floats(x);
        FloatBuffer dys = floats(dy);
        for (int i = 0; i < xs.capacity(); i++) {
            xs.put(i, (float) (0.5 + random.nextGaussian()));
            dys.put(i, (float) random.nextGaussian());
        }
        memory y = new memory(plain, cpu);
        memory dx = new memory(plain, cpu);
        boolean reordered = !plain.equals(data);
        memory xIn = reordered ? new memory(data, cpu) : x;
        memory yOut = reordered ? new memory(data, cpu) : y;
        memory dyIn = reordered ? new memory(data, cpu) : dy;
        memory dxOut = reordered ? new memory(data, cpu) : dx;
        memory scale = new memory(channels, cpu);
        memory shift = new memory(channels, cpu);
        memory mean = new memory(channels, cpu);
        memory variance = new memory(channels, cpu);
        memory dScale = new memory(channels, cpu);
        memory dShift = new memory(channels, cpu);
        for (int c = 0; c < shape[1]; c++) {
            floats(scale).put(c, 1f);
            floats(shift).put(c, 0f);
        }
        IntMemoryMap forwardArgs = args(DNNL_ARG_SRC, xIn, DNNL_ARG_DST, yOut, DNNL_ARG_SCALE, scale, DNNL_ARG_SHIFT,
                shift, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance);
        IntMemoryMap backwardArgs = args(DNNL_ARG_SRC, xIn, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance,
                DNNL_ARG_SCALE, scale, DNNL_ARG_SHIFT, shift, DNNL_ARG_DIFF_DST, dyIn, DNNL_ARG_DIFF_SRC, dxOut,
                DNNL_ARG_DIFF_SCALE, dScale, DNNL_ARG_DIFF_SHIFT, dShift);
        Runnable toX = copy(reordered, x, xIn);
        Runnable fromY = copy(reordered, yOut, y);
        Runnable toDy = copy(reordered, dy, dyIn);
        Runnable fromDx = copy(reordered, dxOut, dx);
        double[] forwardMs = new double[RUNS];
        double[] backwardMs = new double[RUNS];
        for (int i = 0; i < WARMUP + RUNS; i++) {
            long start = System.nanoTime();
            toX.run();
            execute(forward, forwardArgs);
            fromY.run();
            long forwarded = System.nanoTime();
            toX.run();
            toDy.run();
            execute(backward, backwardArgs);
            fromDx.run();
            long done = System.nanoTime();
            if (i >= WARMUP) {
                forwardMs[i - WARMUP] = (forwarded - start) / 1e6;
                backwardMs[i - WARMUP] = (done - forwarded) / 1e6;
            }
        }
        double[] errors = varianceErrors(shape, xs, floats(variance));
        System.out.printf("%-18s %-8s %-28s %9.3f %9.3f %12.2e %12.2e%n", Arrays.toString(shape), tag,
                fd.impl_info_str().getString(), median(forwardMs), median(backwardMs), errors[0], errors[1]);
    }

    /** The largest and the mean relative error of oneDNN's batch variance against double precision's. */
    private static double[] varianceErrors(long[] shape, FloatBuffer x, FloatBuffer variance) {
        int n = (int) shape[0];
        int c = (int) shape[1];
        int hw = (int) (shape[2] * shape[3]);
        double max = 0;
        double sum = 0;
        for (int ch = 0; ch < c; ch++) {
            double total = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < hw; j++) {
                    total += x.get((i * c + ch) * hw + j);
                }
            }
            double mean = total / ((double) n * hw);
            double squares = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < hw; j++) {
                    double d = x.get((i * c + ch) * hw + j) - mean;
                    squares += d * d;
                }
            }
            double exact = squares / ((double) n * hw);
            double relative = (variance.get(ch) - exact) / exact;
            max = Math.max(max, Math.abs(relative));
            sum += relative;
        }
        return new double[]{max, sum / c};
    }

    private static IntMemoryMap args(Object... pairs) {
        IntMemoryMap map = new IntMemoryMap();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put((Integer) pairs[i], (memory) pairs[i + 1]);
        }
        return map;
    }

    /** The reorder from {@code from} to {@code to}, made once; nothing when the layouts are the same. */
    private Runnable copy(boolean reordered, memory from, memory to) {
        if (!reordered) {
            return () -> {};
        }
        primitive r = new reorder(from, to);
        IntMemoryMap a = args(DNNL_ARG_FROM, from, DNNL_ARG_TO, to);
        return () -> execute(r, a);
    }

    private void execute(primitive p, IntMemoryMap args) {
        p.execute(stream, args);
        stream._wait();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
