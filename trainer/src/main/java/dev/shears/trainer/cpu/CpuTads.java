package dev.shears.trainer.cpu;

import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.cpu.nativecpu.CpuTADManager;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shape information and offsets of an array's sub-arrays along some dimensions (ND4J's TADs, which broadcast and
 * reduction ops along a dimension ask for, e.g. a dense layer's bias added to each row), made once per array shape and
 * dimensions. ND4J 1.0.0-M2.1's {@code CpuTADManager} has a table for them but never reads it: each call wraps
 * libnd4j's constant copy anew, with the same per-wrapper costs as {@link ShapeInfoCache} describes. The training
 * thread of a LeNet-5 job ran 4 to 5 % faster per CPU-second with this than with ND4J's manager, both with
 * {@link ShapeInfoCache} (README, What was tried).
 *
 * <p>CPU backend only: {@link ShapeInfoCache#install()} loads this class only when ND4J's CPU shape information
 * provider is in place, so a CUDA worker, which has no {@code nd4j-native}, never links it.
 */
final class CpuTads extends CpuTADManager {
    private static final Logger log = LoggerFactory.getLogger(CpuTads.class);
    private static final String FIELD = "tadManager";

    private final ConcurrentHashMap<Key, Pair<DataBuffer, DataBuffer>> table = new ConcurrentHashMap<>();

    /** Puts a {@code CpuTads} in place of the CPU executioner's {@code CpuTADManager}; idempotent. */
    static void install() {
        Object executioner = Nd4j.getExecutioner();
        try {
            Field field = executioner.getClass().getDeclaredField(FIELD);
            field.setAccessible(true);
            if (field.get(executioner) != null && field.get(executioner).getClass() == CpuTADManager.class) {
                field.set(executioner, new CpuTads());
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("cannot replace ND4J's TAD manager ({}): each broadcast makes its own", e.toString());
        }
    }

    /** Whether the executioner uses a {@code CpuTads} now. */
    static boolean installed() {
        return Nd4j.getExecutioner().getTADManager() instanceof CpuTads;
    }

    @Override
    public Pair<DataBuffer, DataBuffer> getTADOnlyShapeInfo(INDArray array, int... dimension) {
        if (dimension != null && dimension.length > 1) {
            Arrays.sort(dimension); // as ND4J's manager does, in the caller's array
        }
        Key key = new Key(array.shapeInfoJava(), dimension);
        Pair<DataBuffer, DataBuffer> cached = table.get(key);
        if (cached != null) {
            return cached;
        }
        return ShapeInfoCache.remember(table, key.copy(), super.getTADOnlyShapeInfo(array, dimension));
    }

    @Override
    public void purgeBuffers() {
        table.clear();
    }

    /** The TAD shape information and offsets held now, in bytes. */
    @Override
    public long getCachedBytes() {
        long total = 0;
        for (Pair<DataBuffer, DataBuffer> held : table.values()) {
            total += (held.getFirst().length() + held.getSecond().length()) * Long.BYTES;
        }
        return total;
    }

    /** Distinct array shapes and dimensions held now. */
    int size() {
        return table.size();
    }

    /** An array's shape information and the dimensions of its sub-arrays; the arrays are the caller's until copied. */
    private record Key(long[] shapeInfo, int[] dimension) {
        Key copy() {
            return new Key(shapeInfo.clone(), dimension == null ? null : dimension.clone());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(shapeInfo, k.shapeInfo) && Arrays.equals(dimension, k.dimension);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(shapeInfo) + Arrays.hashCode(dimension);
        }

        @Override
        public String toString() {
            return Arrays.toString(shapeInfo) + " along " + Arrays.toString(dimension);
        }
    }
}
