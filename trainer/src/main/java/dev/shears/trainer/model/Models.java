package dev.shears.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.prune.ModelZips;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * The models Shears trains on Fashion-MNIST, and loading of saved ones.
 *
 * <p>Built models take {@code [batch, 784]} FLOAT features (pixels in [0, 1]) and output
 * {@code [batch, 10]} softmax probabilities trained with multi-class cross-entropy. Weights and
 * biases start as PyTorch's defaults for {@code nn.Conv2d} and {@code nn.Linear}: uniform in
 * {@code ±1/sqrt(fan_in)} ({@link WeightInit#UNIFORM} for the weights; the biases drawn from the
 * seed), so both frameworks start from the same distribution. {@code weightDecay} is PyTorch's {@code weight_decay} for SGD, Adam and the like:
 * {@code weightDecay * w} is added to the gradient of every parameter, biases included, before
 * the updater (DL4J's {@code l2} and {@code l2Bias}, not its decoupled {@code weightDecay}).
 */
public final class Models {

    /** The names {@link #create} accepts, besides {@code file:<path>}. */
    public static final List<String> NAMES = List.of("lenet5", "lenet300100");

    private static final String FILE_PREFIX = "file:";

    private Models() {
    }

    /**
     * The classic LeNet-5 as PyTorch tutorials write it, 61,706 parameters: conv1 (6 filters
     * 5x5, padding 2, ReLU) → pool1 (max 2x2) → conv2 (16 filters 5x5, ReLU) → pool2 (max 2x2) →
     * fc1 (400 → 120, ReLU) → fc2 (84, ReLU) → fc3 (10, softmax). Input
     * {@code InputType.convolutionalFlat(28, 28, 1)}; the flattening before fc1 is channel-major
     * ({@code [16, 5, 5]}), as PyTorch's {@code view(-1, 400)}.
     *
     * @param seed        seeds the initial weights: the same seed gives the same network
     * @param updater     the optimiser, e.g. {@code new Nesterovs(0.01, 0.9)}
     * @param weightDecay L2 coefficient, >= 0; 0 for none
     * @throws IllegalArgumentException if {@code weightDecay} is negative or not finite
     */
    public static MultiLayerNetwork lenet5(long seed, IUpdater updater, double weightDecay) {
        MultiLayerConfiguration conf = base(seed, updater, weightDecay)
                .list()
                .layer(new ConvolutionLayer.Builder(5, 5).name("conv1").nOut(6).padding(2, 2)
                        .activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1")
                        .kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(5, 5).name("conv2").nOut(16)
                        .activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool2")
                        .kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().name("fc1").nOut(120).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("fc2").nOut(84).activation(Activation.RELU).build())
                .layer(output("fc3"))
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
        return initialised(conf);
    }

    /**
     * LeNet-300-100, 266,610 parameters: fc1 (784 → 300, ReLU) → fc2 (100, ReLU) → fc3 (10,
     * softmax). Input {@code InputType.feedForward(784)}.
     *
     * @param seed        seeds the initial weights: the same seed gives the same network
     * @param updater     the optimiser, e.g. {@code new Nesterovs(0.01, 0.9)}
     * @param weightDecay L2 coefficient, >= 0; 0 for none
     * @throws IllegalArgumentException if {@code weightDecay} is negative or not finite
     */
    public static MultiLayerNetwork lenet300100(long seed, IUpdater updater, double weightDecay) {
        MultiLayerConfiguration conf = base(seed, updater, weightDecay)
                .list()
                .layer(new DenseLayer.Builder().name("fc1").nOut(300).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("fc2").nOut(100).activation(Activation.RELU).build())
                .layer(output("fc3"))
                .setInputType(InputType.feedForward(784))
                .build();
        return initialised(conf);
    }

    /**
     * A model by name: {@code lenet5}, {@code lenet300100}, or {@code file:<path>} for a saved one
     * ({@link #load}). A saved model comes as it was saved, with its own updater, regularization
     * and updater state: {@code seed}, {@code updater} and {@code weightDecay} only build the named
     * architectures.
     *
     * @return a {@link MultiLayerNetwork} or a {@link ComputationGraph}, initialised
     * @throws IllegalArgumentException if the name is unknown (the message lists the valid ones),
     *                                  or as {@link #load} or the builders
     */
    public static Model create(String spec, long seed, IUpdater updater, double weightDecay) {
        if (spec.startsWith(FILE_PREFIX)) {
            return load(Path.of(spec.substring(FILE_PREFIX.length())));
        }
        return switch (spec) {
            case "lenet5" -> lenet5(seed, updater, weightDecay);
            case "lenet300100" -> lenet300100(seed, updater, weightDecay);
            default -> throw new IllegalArgumentException("unknown model '" + spec + "': valid are "
                    + String.join(", ", NAMES) + ", or " + FILE_PREFIX + "<path to a DL4J model zip>");
        };
    }

    /**
     * Loads a model saved by DL4J's {@code ModelSerializer.writeModel}, with its updater state if
     * the file has one, so that training can continue as it would have.
     *
     * @return a {@link MultiLayerNetwork} or a {@link ComputationGraph}, as saved
     * @throws IllegalArgumentException if the file is missing, unreadable, not a zip, refused by
     *                                  {@link ModelZips}, not a DL4J model, or damaged; the message
     *                                  names the file
     */
    public static Model load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("model file " + file + " does not exist"
                    + "; pass the path of a zip written by ModelSerializer.writeModel");
        }
        boolean graph = isGraph(file);
        try {
            return graph
                    ? ModelSerializer.restoreComputationGraph(file.toFile(), true)
                    : ModelSerializer.restoreMultiLayerNetwork(file.toFile(), true);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("model file " + file + " is damaged: DL4J could not restore the "
                    + (graph ? "ComputationGraph" : "MultiLayerNetwork") + " it describes (" + e
                    + "); save the model again", e);
        }
    }

    /** Whether a ModelSerializer zip holds a ComputationGraph (else a MultiLayerNetwork). */
    private static boolean isGraph(Path file) {
        String notAModel = "model file " + file + " is not a DL4J model: ";
        String fix = "; pass a zip written by ModelSerializer.writeModel";
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ModelZips.check(file); // before anything inflates an entry: refused with the limit it breaks
            ZipEntry entry = zip.getEntry(ModelSerializer.CONFIGURATION_JSON);
            if (entry == null) {
                throw new IllegalArgumentException(notAModel + "the zip has no "
                        + ModelSerializer.CONFIGURATION_JSON + fix);
            }
            JsonNode conf;
            try (InputStream in = zip.getInputStream(entry)) {
                conf = new ObjectMapper().readTree(in);
            }
            if (conf != null && conf.has("vertices")) {
                return true;
            }
            if (conf != null && conf.has("confs")) {
                return false;
            }
            throw new IllegalArgumentException(notAModel + "its " + ModelSerializer.CONFIGURATION_JSON
                    + " describes neither a MultiLayerNetwork (\"confs\") nor a ComputationGraph (\"vertices\")"
                    + fix);
        } catch (ZipException e) {
            throw new IllegalArgumentException(notAModel + "it is not a zip (" + e.getMessage() + ")" + fix, e);
        } catch (IOException e) {
            throw new IllegalArgumentException("model file " + file + " could not be read: " + e + fix, e);
        }
    }

    private static NeuralNetConfiguration.Builder base(long seed, IUpdater updater, double weightDecay) {
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weight decay " + weightDecay
                    + " is out of range: it must be a finite number >= 0 (0 for none)");
        }
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .updater(updater)
                .weightInit(WeightInit.UNIFORM)
                .l2(weightDecay)
                .l2Bias(weightDecay);
    }

    private static OutputLayer output(String name) {
        return new OutputLayer.Builder(LossFunction.MCXENT).name(name).nOut(10)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.UNIFORM).build();
    }

    private static MultiLayerNetwork initialised(MultiLayerConfiguration conf) {
        MultiLayerNetwork network = new MultiLayerNetwork(conf);
        network.init();
        // PyTorch draws biases uniform in ±1/sqrt(fan_in) too; DL4J only has a constant bias init.
        java.util.SplittableRandom random = new java.util.SplittableRandom(conf.getConf(0).getSeed());
        for (int i = 0; i < network.getnLayers(); i++) {
            org.nd4j.linalg.api.ndarray.INDArray w = network.getLayer(i).getParam("W");
            org.nd4j.linalg.api.ndarray.INDArray b = network.getLayer(i).getParam("b");
            if (w == null || b == null) {
                continue;
            }
            double bound = 1 / Math.sqrt(w.length() / b.length());
            for (long j = 0; j < b.length(); j++) {
                b.putScalar(j, (random.nextDouble() * 2 - 1) * bound);
            }
        }
        return network;
    }
}
