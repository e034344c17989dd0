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
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ndarray.ShapeInfoProvider;
import org.nd4j.linalg.cpu.nativecpu.DirectShapeInfoProvider;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link ShapeInfoCache}: the same shape information as ND4J's own provider makes, one wrapper per distinct shape,
 * valid past a restart of the table, and LeNet-5 training to the same bits with and without it.
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
    void lenet5TrainsToTheSameBitsWithAndWithoutIt() throws ReflectiveOperationException {
        float[] cached = train();
        ShapeInfoProvider installed = Nd4j.getShapeInfoProvider();
        float[] perArray;
        try {
            provider(new DirectShapeInfoProvider());
            perArray = train();
        } finally {
            provider(installed);
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
            provider(other);
            assertThat(ShapeInfoCache.install()).isFalse();
            assertThat(Nd4j.getShapeInfoProvider()).isSameAs(other);
        } finally {
            provider(installed);
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

    private static void provider(ShapeInfoProvider provider) throws ReflectiveOperationException {
        Field field = Nd4j.class.getDeclaredField("shapeInfoProvider");
        field.setAccessible(true);
        field.set(null, provider);
    }
}
