package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.trainer.train.TrainingPath;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ndarray.ShapeInfoProvider;
import org.nd4j.linalg.cache.TADManager;
import org.nd4j.linalg.cpu.nativecpu.CpuTADManager;
import org.nd4j.linalg.cpu.nativecpu.DirectShapeInfoProvider;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link ShapeInfoCache} and {@link CpuTads}: the same shape information and TADs as ND4J's own provider and manager
 * make, one wrapper per distinct shape, valid past a restart of the table, and LeNet-5 training to the same bits with
 * and without them.
 */
class ShapeInfoCacheTest {

    @BeforeAll
    static void cpuBackend() {
        CpuAcceleration.enable();
        assumeTrue(ShapeInfoCache.installed(), "not ND4J's CPU backend: " + Nd4j.getShapeInfoProvider());
    }

    @Test
    void arraysOfOneShapeShareOneBufferWithNd4jsContents() {
        INDArray a = Nd4j.create(DataType.FLOAT, 3, 4, 5);
        INDArray b = Nd4j.zeros(DataType.FLOAT, 3, 4, 5);
        INDArray fortran = Nd4j.create(DataType.FLOAT, new long[]{3, 4, 5}, 'f');
        INDArray doubles = Nd4j.create(DataType.DOUBLE, 3, 4, 5);
        INDArray view = a.get(NDArrayIndex.point(1), NDArrayIndex.interval(1, 3), NDArrayIndex.all());
        INDArray permuted = a.permute(2, 0, 1);
        INDArray empty = Nd4j.empty(DataType.FLOAT);
        INDArray scalar = Nd4j.scalar(2.5f);

        assertThat(b.shapeInfoDataBuffer()).isSameAs(a.shapeInfoDataBuffer());
        assertThat(fortran.shapeInfoDataBuffer()).isNotSameAs(a.shapeInfoDataBuffer());
        assertThat(doubles.shapeInfoDataBuffer()).isNotSameAs(a.shapeInfoDataBuffer());

        DirectShapeInfoProvider nd4j = new DirectShapeInfoProvider();
        for (INDArray x : List.of(a, fortran, doubles, view, permuted, empty, scalar)) {
            long[] expected = nd4j.createShapeInformation(x.shape(), x.stride(), x.elementWiseStride(), x.ordering(),
                    x.dataType(), x.isEmpty()).getFirst().asLong();
            assertThat(x.shapeInfoDataBuffer().asLong()).as("%s", x.shapeInfoToString()).containsExactly(expected);
        }
        assertThat(view.shape()).containsExactly(2, 5);
        assertThat(permuted.shape()).containsExactly(5, 3, 4);
        assertThat(empty.isEmpty()).isTrue();
        assertThat(scalar.getFloat(0)).isEqualTo(2.5f);
    }

    @Test
    void arraysKeepTheirShapesWhenTheTableStartsAgain() {
        ShapeInfoCache cache = (ShapeInfoCache) Nd4j.getShapeInfoProvider();
        List<INDArray> arrays = new ArrayList<>();
        for (int i = 1; i <= ShapeInfoCache.CAPACITY + 100; i++) {
            INDArray x = Nd4j.create(DataType.FLOAT, 1, i);
            if (i % 1000 == 0) {
                x.assign(i);
                arrays.add(x);
            }
            assertThat(cache.size()).isLessThanOrEqualTo(ShapeInfoCache.CAPACITY);
        }
        assertThat(cache.getCachedBytes()).isPositive().isLessThanOrEqualTo(16L * Long.BYTES * cache.size());
        System.gc();
        for (INDArray x : arrays) {
            long n = x.length();
            assertThat(x.shape()).containsExactly(1, n);
            assertThat(x.sumNumber().doubleValue()).isEqualTo((double) n * n);
        }
        assertThat(Nd4j.create(DataType.FLOAT, 1, 1000).shapeInfoDataBuffer().asLong())
                .containsExactly(arrays.get(0).shapeInfoDataBuffer().asLong());
    }

    @Test
    void subArraysOfOneShapeShareOneTadWithNd4jsContents() {
        assertThat(CpuTads.installed()).isTrue();
        TADManager tads = Nd4j.getExecutioner().getTADManager();
        INDArray a = Nd4j.rand(DataType.FLOAT, 4, 3, 5);
        INDArray b = Nd4j.rand(DataType.FLOAT, 4, 3, 5);
        INDArray view = Nd4j.rand(DataType.FLOAT, 8, 3, 5).get(NDArrayIndex.interval(2, 6), NDArrayIndex.all(),
                NDArrayIndex.all());
        int[] unsorted = {2, 0};

        Pair<DataBuffer, DataBuffer> first = tads.getTADOnlyShapeInfo(a, 1);
        assertThat(tads.getTADOnlyShapeInfo(b, 1)).isSameAs(first);
        assertThat(tads.getTADOnlyShapeInfo(a, 2)).isNotSameAs(first);
        CpuTADManager nd4j = new CpuTADManager();
        for (INDArray x : List.of(a, view)) {
            for (int[] dimension : List.of(new int[]{1}, new int[]{0, 2}, new int[]{2})) {
                Pair<DataBuffer, DataBuffer> expected = nd4j.getTADOnlyShapeInfo(x, dimension.clone());
                Pair<DataBuffer, DataBuffer> actual = tads.getTADOnlyShapeInfo(x, dimension.clone());
                assertThat(actual.getFirst().asLong()).containsExactly(expected.getFirst().asLong());
                assertThat(actual.getSecond().asLong()).containsExactly(expected.getSecond().asLong());
            }
        }
        CpuTads held = (CpuTads) tads;
        assertThat(held.size()).isGreaterThanOrEqualTo(3); // the view has a's shape information
        assertThat(held.getCachedBytes()).isPositive();
        tads.getTADOnlyShapeInfo(a, unsorted);
        assertThat(unsorted).as("sorted in place, as ND4J's manager does").containsExactly(0, 2);

        INDArray bias = Nd4j.createFromArray(1f, 2f, 3f);
        INDArray rows = Nd4j.zeros(DataType.FLOAT, 2, 3).addiRowVector(bias);
        assertThat(rows.toFloatMatrix()).isEqualTo(new float[][]{{1, 2, 3}, {1, 2, 3}});
        assertThat(view.sum(0, 2).toFloatVector()).containsExactly(view.dup().sum(0, 2).toFloatVector());
    }

    @Test
    void lenet5TrainsToTheSameBitsWithAndWithoutIt() throws ReflectiveOperationException {
        float[] cached = train();
        ShapeInfoProvider provider = Nd4j.getShapeInfoProvider();
        TADManager tads = Nd4j.getExecutioner().getTADManager();
        float[] perArray;
        try {
            set(Nd4j.class, null, "shapeInfoProvider", new DirectShapeInfoProvider());
            set(Nd4j.getExecutioner().getClass(), Nd4j.getExecutioner(), "tadManager", new CpuTADManager());
            perArray = train();
        } finally {
            set(Nd4j.class, null, "shapeInfoProvider", provider);
            set(Nd4j.getExecutioner().getClass(), Nd4j.getExecutioner(), "tadManager", tads);
        }
        assertThat(cached).containsExactly(perArray);
    }

    @Test
    void anotherBackendsProviderIsLeftAlone() throws ReflectiveOperationException {
        ShapeInfoProvider installed = Nd4j.getShapeInfoProvider();
        ShapeInfoProvider other = new org.nd4j.linalg.api.ndarray.BaseShapeInfoProvider() {
            @Override
            public void purgeCache() {}
        };
        try {
            set(Nd4j.class, null, "shapeInfoProvider", other);
            assertThat(ShapeInfoCache.install()).isFalse();
            assertThat(Nd4j.getShapeInfoProvider()).isSameAs(other);
        } finally {
            set(Nd4j.class, null, "shapeInfoProvider", installed);
        }
        assertThat(ShapeInfoCache.install()).isTrue();
    }

    /** LeNet-5 on the production training path, six batches of random data: its parameters afterwards. */
    private static float[] train() {
        MultiLayerNetwork net = LeNet5.network(7, false);
        TrainingPath.prepare(net);
        for (int i = 0; i < 6; i++) {
            INDArray[] batch = LeNet5.randomBatch(100 + i, LeNet5.BATCH);
            net.fit(batch[0], batch[1]);
        }
        return net.params().dup().data().asFloat();
    }

    private static void set(Class<?> type, Object owner, String name, Object value)
            throws ReflectiveOperationException {
        Field field = type.getDeclaredField(name);
        field.setAccessible(true);
        field.set(owner, value);
    }
}
