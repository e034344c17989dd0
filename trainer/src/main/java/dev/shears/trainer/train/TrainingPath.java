package dev.shears.trainer.train;

import dev.shears.trainer.cpu.CachedPreOutputs;
import dev.shears.trainer.cpu.InputLayerGradients;
import dev.shears.trainer.cpu.MaxPooling;
import dev.shears.trainer.cpu.OneDnnActivation;
import dev.shears.trainer.cpu.OneDnnBatchNorm;
import dev.shears.trainer.cpu.OneDnnConvolution;
import dev.shears.trainer.cpu.OneDnnDepthwise;
import dev.shears.trainer.cpu.ReluGradients;
import dev.shears.trainer.cpu.UpdaterBlocks;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The way a job's network trains, set once wherever a network is made ready for {@code fit}
 * (a new job, a job restored from its checkpoint, the benchmarks' copy of the job's loop):
 *
 * <ul>
 *   <li>forward results kept for back-propagation ({@link CacheMode#DEVICE}): DL4J's convolution
 *       layers otherwise run their forward convolution a second time inside back-propagation, and its
 *       dense layers their product ({@link CachedPreOutputs});</li>
 *   <li>convolutions on oneDNN primitives made once per layer and input shape
 *       ({@link OneDnnConvolution}), depthwise ones too, back-propagated without a second forward pass
 *       ({@link OneDnnDepthwise});</li>
 *   <li>no gradient with respect to the input ({@link InputLayerGradients});</li>
 *   <li>ReLU and ReLU6 back-propagated in vectorised passes ({@link ReluGradients}), and their activation layers
 *       on oneDNN's element-wise primitives, one pass each way ({@link OneDnnActivation});</li>
 *   <li>max pooling on oneDNN primitives made once per layer and input shape, back-propagated from the
 *       forward pass's record of each window's maximum instead of a second forward pass ({@link MaxPooling});</li>
 *   <li>batch normalization on oneDNN primitives made once per layer and input shape, the batch's statistics
 *       computed by oneDNN's pass instead of libnd4j's reductions, in oneDNN's blocked layout where the channels fill
 *       its blocks ({@link OneDnnBatchNorm});</li>
 *   <li>no regularization pass in the updater where no parameter has a regularization
 *       ({@link UpdaterBlocks}).</li>
 * </ul>
 *
 * None changes the numbers DL4J computes beyond float rounding (the ReLU swap, the activation layers, the pooling
 * and the updater not even that; the batch normalization's are as near exact arithmetic as DL4J's own float path,
 * nearer where oneDNN's generic kernel runs), and none shows in a checkpoint or a published model (they still name
 * DL4J's classes). On LeNet-5 / Fashion-MNIST, batch 64, one core, the first two made training about 1.5
 * times as fast, the pooling 1.1 times again; on ResNet-20 the batch normalization 1.5 times and its blocked layout
 * 1.13 times again, on MobileNetV2 the batch normalization 1.55 times, ReLU6 1.25 times, the depthwise convolutions
 * 1.24 times, the blocked batch normalization 1.25 times and the activation layers on oneDNN about 1.09 times again
 * (README, Performance).
 * Call it again after anything that rebuilds the network's layers (a clone, a restore).
 */
public final class TrainingPath {
    private TrainingPath() {}

    /** Prepares {@code net} for training as above; idempotent. */
    public static void prepare(MultiLayerNetwork net) {
        net.getLayerWiseConfigurations().setCacheMode(CacheMode.DEVICE);
        net.setCacheMode(CacheMode.DEVICE);
        CachedPreOutputs.install(net);
        OneDnnConvolution.install(net);
        OneDnnDepthwise.SWAP.install(net);
        InputLayerGradients.skip(net);
        ReluGradients.install(net);
        OneDnnActivation.SWAP.install(net);
        MaxPooling.SWAP.install(net);
        OneDnnBatchNorm.install(net.getLayers());
        UpdaterBlocks.skipEmptyRegularization(net);
    }

    /**
     * Prepares {@code graph} for training: forward results kept, convolutions on cached oneDNN primitives (with or
     * without a bias, as ResNet's and MobileNet's are, depthwise ones included), the input gradient skipped for each
     * layer that reads the network's input, ReLU's and ReLU6's vectorised gradients (their activation layers on oneDNN's
     * element-wise primitives), batch normalization on cached
     * oneDNN primitives; idempotent. Its dense and pooling layers stay on DL4J's own path: {@link CachedPreOutputs}
     * and {@link MaxPooling} are proven on LeNet-5's sequential layers only, and a graph's dense and pooling layers
     * are few and cheap (one classifier, one global pooling).
     */
    public static void prepare(ComputationGraph graph) {
        graph.getConfiguration().setCacheMode(CacheMode.DEVICE);
        graph.setCacheMode(CacheMode.DEVICE);
        OneDnnConvolution.install(graph);
        OneDnnDepthwise.SWAP.install(graph);
        InputLayerGradients.skip(graph);
        ReluGradients.install(graph);
        OneDnnActivation.SWAP.install(graph);
        OneDnnBatchNorm.install(graph.getLayers());
    }
}
