package dev.shears.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.common.data.InputShape;
import dev.shears.common.recipe.ModelSource;
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
 * The models Shears trains, shaped by the data (channels, height, width, classes), and loading of saved ones.
 *
 * <p>LeNet-5 and LeNet-300-100 are {@link MultiLayerNetwork}s that take flat {@code [batch, c·h·w]} FLOAT features;
 * ResNet, MobileNetV2 and VGG are {@link ComputationGraph}s that take {@code [batch, c, h, w]} (NCHW,
 * {@code InputType.convolutional(h, w, c)}). All output {@code [batch, classes]} softmax probabilities trained
 * with multi-class cross-entropy. They start as PyTorch's modules do: weights and biases uniform in
 * {@code ±1/sqrt(fan_in)} ({@code kaiming_uniform_(a=sqrt(5))}; the LeNets draw their weights with DL4J's
 * {@link WeightInit#UNIFORM}, which is the same distribution), batch normalisation at scale 1, shift 0. The graphs'
 * layers are named as PyTorch's modules would be ({@code layer1.0.conv1}). {@code weightDecay} is PyTorch's
 * {@code weight_decay} for SGD, Adam and the like: {@code weightDecay * w} is added to the gradient of every
 * parameter, biases included, before the updater (DL4J's {@code l2} and {@code l2Bias}, not its decoupled
 * {@code weightDecay}).
 */
public final class Models {

    /** The names {@link #create} accepts, besides {@code file:<path>}. */
    public static final List<String> NAMES = List.of("lenet5", "lenet300100", "resnet", "mobilenetv2", "vgg");

    private Models() {}

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
        return lenet5(InputShape.FASHION_MNIST, 10, seed, updater, weightDecay);
    }

    /**
     * LeNet-5 for examples of {@code input} shape (at least 12x12) and {@code classes} classes: fc1 reads 16
     * channels of ((h/2 - 4)/2) x ((w/2 - 4)/2). Input {@code InputType.convolutionalFlat(h, w, c)}.
     *
     * @throws IllegalArgumentException as {@link #lenet5(long, IUpdater, double)}, or when the input is smaller
     *     than 12x12 or {@code classes < 2}
     */
    public static MultiLayerNetwork lenet5(InputShape input, int classes, long seed, IUpdater updater,
            double weightDecay) {
        ModelSource.LENET5.checkFits(input);
        checkClasses(classes);
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
                .layer(output("fc3", classes))
                .setInputType(InputType.convolutionalFlat(input.height(), input.width(), input.channels()))
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
        return lenet300100(InputShape.FASHION_MNIST, 10, seed, updater, weightDecay);
    }

    /**
     * LeNet-300-100 on {@code c·h·w} features and {@code classes} classes. Input {@code InputType.feedForward} for
     * features; for images {@code InputType.convolutional(h, w, c)}, flattened channel by channel as PyTorch's
     * {@code flatten} does, so that the same batches feed it as feed LeNet-5.
     */
    public static MultiLayerNetwork lenet300100(InputShape input, int classes, long seed, IUpdater updater,
            double weightDecay) {
        MultiLayerConfiguration conf = base(seed, updater, weightDecay)
                .list()
                .layer(new DenseLayer.Builder().name("fc1").nOut(300).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("fc2").nOut(100).activation(Activation.RELU).build())
                .layer(output("fc3", checkClasses(classes)))
                .setInputType(input.isImage() ? InputType.convolutional(input.height(), input.width(), input.channels())
                        : InputType.feedForward(input.size()))
                .build();
        return initialised(conf);
    }

    /**
     * A CIFAR-style ResNet (He et al. 2016, as torchvision's {@code BasicBlock}): conv1 (3x3, {@code width}) →
     * bn1 → relu; three stages {@code layer1..layer3} of n = (depth - 2) / 6 basic blocks with {@code width},
     * 2·width and 4·width channels, the first block of stages 2 and 3 striding by 2; a block is conv1 (3x3) → bn1 →
     * relu1 → conv2 (3x3) → bn2, plus its input (identity) or a projection where the shape changes
     * ({@code downsample.0}, a 1x1 convolution, → {@code downsample.1}, batch norm), then relu; global average
     * pooling ({@code avgpool}); {@code fc} (softmax). ResNet-20 with width 16 has 272,474 parameters on 10
     * classes. Input {@code InputType.convolutional(h, w, c)}, any size.
     *
     * @param depth 6n+2 in [8, 1202] (20, 32, 44, 56, 110)
     * @param width the first stage's channels, in [1, 1024]
     * @throws IllegalArgumentException when a size is out of range (a {@code RecipeException} naming it), as
     *     {@link #lenet5(long, IUpdater, double)} for {@code weightDecay}
     */
    public static ComputationGraph resnet(int depth, int width, InputShape input, int classes, long seed,
            IUpdater updater, double weightDecay) {
        ModelSource.resnet(depth, width);
        return GraphArchitectures.resnet(graphBase(seed, updater, weightDecay), depth, width, input,
                checkClasses(classes), seed);
    }

    /**
     * torchvision's MobileNetV2 (Sandler et al. 2018): {@code features.0} (3x3 convolution, 32 channels, batch
     * norm, ReLU6), 17 inverted residuals {@code features.1..17} (1x1 expansion by t → batch norm → ReLU6, 3x3
     * depthwise → batch norm → ReLU6, 1x1 projection → batch norm, plus the input where the stride is 1 and the
     * channels stay), {@code features.18} (1x1, 1280 channels, batch norm, ReLU6), global average pooling, dropout
     * 0.2 and {@code fc}. Every layer's channels are scaled by {@code widthMultiplier} and rounded to a multiple
     * of 8 (at least 8), as torchvision does. For inputs up to 64x64 (CIFAR's 32x32, Fashion-MNIST's 28x28) the
     * stem and the second stage do not stride, as CIFAR versions do, so that the last feature map is 4x4, not 1x1.
     *
     * @param widthMultiplier in (0, 4]; 1.0 has 2,236,682 parameters on 10 classes
     * @throws IllegalArgumentException when a size is out of range
     */
    public static ComputationGraph mobilenetv2(double widthMultiplier, InputShape input, int classes, long seed,
            IUpdater updater, double weightDecay) {
        ModelSource.mobilenetv2(widthMultiplier);
        return GraphArchitectures.mobilenetv2(graphBase(seed, updater, weightDecay), widthMultiplier, input,
                checkClasses(classes), seed);
    }

    /**
     * A plain VGG (Simonyan and Zisserman 2014) with batch norm: the convolutions of configuration A (depth 11),
     * B (13), D (16) or E (19), each 3x3 → batch norm → ReLU and named {@code conv<i>}, {@code bn<i>},
     * {@code relu<i>}; the five stages have width, 2, 4, 8 and 8 x width channels and end in a 2x2 max pooling
     * ({@code pool<j>}) while the feature map is at least 2x2; the last map is flattened (channel-major, as
     * {@code torch.flatten}) into one linear classifier {@code fc}. Input {@code InputType.convolutional(h, w, c)},
     * any size.
     *
     * @param depth 11, 13, 16 or 19
     * @param width the first stage's channels, in [1, 1024] (VGG's own: 64)
     * @throws IllegalArgumentException when a size is out of range
     */
    public static ComputationGraph vgg(int depth, int width, InputShape input, int classes, long seed,
            IUpdater updater, double weightDecay) {
        ModelSource.vgg(depth, width);
        return GraphArchitectures.vgg(graphBase(seed, updater, weightDecay), depth, width, input,
                checkClasses(classes), seed);
    }

    /**
     * The model a recipe names, shaped by the data: a built-in architecture for {@code input} and
     * {@code classes}, or a saved model ({@link #load}) as it was saved, with its own updater, regularization and
     * updater state ({@code seed}, {@code updater} and {@code weightDecay} only build the built-in ones).
     *
     * @return a {@link MultiLayerNetwork} or a {@link ComputationGraph}, initialised
     * @throws IllegalArgumentException when the model cannot read {@code input} (LeNet-5 below 12x12), or as
     *     {@link #load} or the builders
     */
    public static Model create(ModelSource source, InputShape input, int classes, long seed, IUpdater updater,
            double weightDecay) {
        return switch (source.kind()) {
            case FILE -> load(source.file().orElseThrow());
            case LENET5 -> lenet5(input, classes, seed, updater, weightDecay);
            case LENET300100 -> lenet300100(input, classes, seed, updater, weightDecay);
            case RESNET -> resnet(source.depth().getAsInt(), source.width().getAsInt(), input, classes, seed, updater,
                    weightDecay);
            case MOBILENETV2 -> mobilenetv2(source.widthMultiplier().getAsDouble(), input, classes, seed, updater,
                    weightDecay);
            case VGG -> vgg(source.depth().getAsInt(), source.width().getAsInt(), input, classes, seed, updater,
                    weightDecay);
        };
    }

    /**
     * A model by name, for Fashion-MNIST (1x28x28, 10 classes): {@code lenet5}, {@code lenet300100},
     * {@code resnet}, {@code mobilenetv2}, {@code vgg} (at their default sizes), or {@code file:<path>} for a saved
     * one. The job's workers still build models this way; {@link #create(ModelSource, InputShape, int, long,
     * IUpdater, double)} is the form shaped by the data.
     *
     * @return a {@link MultiLayerNetwork} or a {@link ComputationGraph}, initialised
     * @throws IllegalArgumentException if the name is unknown (the message lists the valid ones),
     *                                  or as {@link #load} or the builders
     */
    public static Model create(String spec, long seed, IUpdater updater, double weightDecay) {
        return create(ModelSource.parse(spec), InputShape.FASHION_MNIST, 10, seed, updater, weightDecay);
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

    /** The builder every graph starts from: LeNet's, with Truncate convolutions (padding is explicit). */
    private static NeuralNetConfiguration.Builder graphBase(long seed, IUpdater updater, double weightDecay) {
        return base(seed, updater, weightDecay).convolutionMode(org.deeplearning4j.nn.conf.ConvolutionMode.Truncate);
    }

    private static int checkClasses(int classes) {
        if (classes < 2) {
            throw new IllegalArgumentException("classes " + classes + " is out of range: a classifier needs at least 2"
                    + " (fix: give the data set's number of classes, e.g. 10 for Fashion-MNIST)");
        }
        return classes;
    }

    private static OutputLayer output(String name, int classes) {
        return new OutputLayer.Builder(LossFunction.MCXENT).name(name).nOut(checkClasses(classes))
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
