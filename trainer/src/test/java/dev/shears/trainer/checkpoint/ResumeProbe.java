package dev.shears.trainer.checkpoint;

import dev.shears.trainer.train.MaskedTraining;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A small network and a deterministic batch stream for checkpoint tests; as a main, restores the
 * latest checkpoint in a fresh JVM, trains on, and writes the parameters.
 */
public final class ResumeProbe {

    public static void main(String[] args) throws Exception {
        Checkpoints.Restored restored = new Checkpoints(Path.of(args[0])).restoreLatest().orElseThrow();
        MultiLayerNetwork net = restored.model().network();
        net.setListeners(new MaskedTraining(restored.model().pruning()));
        train(net, restored.state().iteration(), Integer.parseInt(args[1]));
        Nd4j.saveBinary(net.params(), Path.of(args[2]).toFile());
    }

    static MultiLayerNetwork network() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).updater(new Adam(0.01))
                .weightDecay(1e-4).dataType(DataType.FLOAT).list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv").nOut(4).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("fc").nOut(16).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(8, 8, 1)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** Trains {@code count} iterations on batches {@code from, from+1, ...}, each a function of its index. */
    static void train(MultiLayerNetwork net, long from, int count) {
        for (long i = from; i < from + count; i++) {
            net.fit(batch(i));
        }
    }

    static DataSet batch(long index) {
        java.util.Random random = new java.util.Random(1000 + index);
        float[] values = new float[16 * 64];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextFloat();
        }
        INDArray features = Nd4j.create(values, new long[]{16, 64}, 'c');
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 16, 3);
        for (int r = 0; r < 16; r++) {
            labels.putScalar(r, (int) ((index + r) % 3), 1f);
        }
        return new DataSet(features, labels);
    }

    private ResumeProbe() {}
}
