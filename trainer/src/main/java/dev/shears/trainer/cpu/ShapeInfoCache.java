package dev.shears.trainer.cpu;

import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.BaseShapeInfoProvider;
import org.nd4j.linalg.api.ndarray.ShapeInfoProvider;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ND4J's shape information, made once per distinct shape instead of once per array.
 *
 * <p>Every ND4J array, views and workspace arrays included, holds a shape information buffer: rank, shape, strides,
 * element-wise stride, order and type flags. libnd4j keeps one native copy of each distinct buffer for the life of
 * the process ({@code ConstantShapeHelper}), but ND4J 1.0.0-M2.1's CPU backend wraps that copy anew for every array:
 * two JavaCPP pointers for the shape and strides, an externalised data buffer, a registration with ND4J's
 * deallocator and a {@code long[]} copy. Its {@code DirectShapeInfoProvider} was meant to cache the wrapper, but it
 * overrides only the five-argument {@code createShapeInformation}, and {@code BaseNDArray} calls the six-argument one
 * ({@code DataType}, {@code empty}), so that cache is never consulted. In a LeNet-5 job on one core the wrappers
 * cost the training thread 3.3 of its 55 CPU s and kept ND4J's two deallocator threads busy for another 1.3 s; each
 * holds reference objects that every young collection must copy and process, so the pauses grew long and the old
 * generation filled with them (async-profiler, {@code bench/profile.sh}, 2026-12-05). With this provider the whole
 * job took 56.4 s instead of 63.9 s and its peak RSS fell from 777 to 558 MB, to the same final accuracy (medians of
 * 5 alternated runs against the build before it, one pinned core; README, What was tried).
 *
 * <p>This provider returns the same wrapper for the same shape, which is what ND4J's own provider does on the path
 * it does cache: the buffers are marked constant, they wrap libnd4j's constant copy, and no code in ND4J or DL4J
 * writes into an array's shape information after creating it. The numbers an array holds do not depend on it. At
 * {@value #CAPACITY} distinct shapes it starts a new table: entries still in use stay valid (arrays keep their
 * wrapper) and are freed with their last array.
 *
 * <p>{@link #install()} puts it in place of {@code DirectShapeInfoProvider} on the CPU backend; any other provider
 * (the CUDA backend's) is left alone.
 */
public final class ShapeInfoCache extends BaseShapeInfoProvider {

    /**
     * Distinct shapes held before the table starts again: training LeNet-5 (batch 64) and evaluating it makes 72,
     * training ResNet-20 90.
     */
    static final int CAPACITY = 4096;

    private static final Logger log = LoggerFactory.getLogger(ShapeInfoCache.class);
    private static final String ND4J_CPU_PROVIDER = "org.nd4j.linalg.cpu.nativecpu.DirectShapeInfoProvider";

    private final ConcurrentHashMap<Key, Pair<DataBuffer, long[]>> table = new ConcurrentHashMap<>();

    /**
     * Makes a {@code ShapeInfoCache} ND4J's shape information provider when the provider in place is the CPU
     * backend's {@code DirectShapeInfoProvider}; idempotent. Arrays made before keep their shape information.
     *
     * @return whether this provider is in place afterwards
     */
    static synchronized boolean install() {
        ShapeInfoProvider current = Nd4j.getShapeInfoProvider();
        if (current instanceof ShapeInfoCache) {
            return true;
        }
        if (current == null || !ND4J_CPU_PROVIDER.equals(current.getClass().getName())) {
            log.debug("ND4J's shape information provider is {}: left in place",
                    current == null ? null : current.getClass().getName());
            return false;
        }
        CpuTads.install();
        try {
            Field provider = Nd4j.class.getDeclaredField("shapeInfoProvider");
            provider.setAccessible(true);
            provider.set(null, new ShapeInfoCache());
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("cannot replace ND4J's shape information provider ({}): each array makes its own", e.toString());
            return false;
        }
    }

    /** Whether ND4J uses this provider now. */
    static boolean installed() {
        return Nd4j.getShapeInfoProvider() instanceof ShapeInfoCache;
    }

    @Override
    public Pair<DataBuffer, long[]> createShapeInformation(long[] shape, long[] stride, long elementWiseStride,
            char order, DataType dataType, boolean empty) {
        Key key = new Key(shape, stride, elementWiseStride, order, dataType, empty, 0);
        Pair<DataBuffer, long[]> cached = table.get(key);
        if (cached != null) {
            return cached;
        }
        return remember(table, key.copy(), super.createShapeInformation(shape, stride, elementWiseStride, order,
                dataType, empty));
    }

    @Override
    public Pair<DataBuffer, long[]> createShapeInformation(long[] shape, long[] stride, long elementWiseStride,
            char order, long extras) {
        Key key = new Key(shape, stride, elementWiseStride, order, null, false, extras);
        Pair<DataBuffer, long[]> cached = table.get(key);
        if (cached != null) {
            return cached;
        }
        return remember(table, key.copy(), super.createShapeInformation(shape, stride, elementWiseStride, order,
                extras));
    }

    @Override
    public void purgeCache() {
        table.clear();
    }

    /** Distinct shapes held now. */
    int size() {
        return table.size();
    }

    /** The shape information buffers held now, in bytes. */
    @Override
    public long getCachedBytes() {
        long total = 0;
        for (Pair<DataBuffer, long[]> held : table.values()) {
            total += held.getFirst().length() * Long.BYTES;
        }
        return total;
    }

    /** Puts {@code made} under {@code key} unless another thread was first, starting {@code table} again when full. */
    static <K, V> V remember(ConcurrentHashMap<K, V> table, K key, V made) {
        if (table.size() >= CAPACITY) {
            log.debug("{} distinct shapes: a shape information table starts again", CAPACITY);
            table.clear();
        }
        V first = table.putIfAbsent(key, made);
        return first == null ? made : first;
    }

    /**
     * What shape information depends on. The six-argument form is keyed by {@code dataType} and {@code empty}, the
     * five-argument form by {@code extras} with a null {@code dataType}; the arrays are the caller's until
     * {@link #copy()}.
     */
    private record Key(long[] shape, long[] stride, long elementWiseStride, char order, DataType dataType,
            boolean empty, long extras) {

        Key copy() {
            return new Key(shape == null ? null : shape.clone(), stride == null ? null : stride.clone(),
                    elementWiseStride, order, dataType, empty, extras);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && elementWiseStride == k.elementWiseStride && order == k.order
                    && dataType == k.dataType && empty == k.empty && extras == k.extras
                    && Arrays.equals(shape, k.shape) && Arrays.equals(stride, k.stride);
        }

        @Override
        public int hashCode() {
            int h = 31 * Arrays.hashCode(shape) + Arrays.hashCode(stride);
            h = 31 * h + Long.hashCode(elementWiseStride ^ extras) + order;
            return 31 * h + (dataType == null ? 0 : dataType.ordinal() + 1) + (empty ? 1 : 0);
        }

        @Override
        public String toString() {
            return Arrays.toString(shape) + " strides " + Arrays.toString(stride) + " order " + order + " "
                    + (dataType == null ? "extras " + extras : dataType + (empty ? " empty" : ""));
        }
    }
}
