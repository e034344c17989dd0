package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

class ModelCostTest {

    @Test
    void countsTwiceTheMultiplyAddsOfLeNet5ByHand() {
        MultiLayerNetwork lenet = CompactionTest.lenet(false, true);

        ModelCost cost = ModelCost.of(lenet); // the input type comes from the convolutionalFlat preprocessor

        // conv1 6x28x28 outputs x 1·5·5, conv2 16x10x10 x 6·5·5, fc1 400·120, fc2 120·84, fc3 84·10
        long macs = 6 * 784 * 25 + 16 * 100 * 150 + 400 * 120 + 120 * 84 + 84 * 10;
        assertThat(cost.flops()).isEqualTo(2 * macs).isEqualTo(833_040);
        assertThat(cost.normalizationFlops()).isEqualTo(2 * 6 * 28 * 28);
        assertThat(cost.parameters()).isEqualTo(lenet.numParams());
        assertThat(cost.layers()).extracting(ModelCost.Layer::name)
                .containsExactly("conv1", "bn1", "conv2", "fc1", "fc2", "fc3");
        assertThat(ModelCost.of(lenet, InputType.convolutionalFlat(28, 28, 1))).isEqualTo(cost);
    }

    @Test
    void countsAGraphsDepthwiseAndPointwiseConvolutionsByHand() {
        ComputationGraph block = Graphs.mobileBlock();

        ModelCost cost = ModelCost.of(block, InputType.convolutional(8, 8, 3));

        // on 8x8 (same padding): stem 8·3·3·3, expand 16·8, dw 16·3·3, project 8·16 weights each used 64 times; out 8·3
        long macs = 64L * (8 * 27 + 16 * 8 + 16 * 9 + 8 * 16) + 8 * 3;
        assertThat(cost.flops()).isEqualTo(2 * macs);
        assertThat(cost.normalizationFlops()).isEqualTo(2 * 64 * (8 + 16 + 16 + 8));
    }

    @Test
    void nonZeroFlopsOfAGroupPrunedModelAreTheFlopsOfItsCompactedModel() {
        ComputationGraph block = Graphs.mobileBlock();
        Pruning.of(block).groupStructured(DependencyGroups.of(block).group("expand"), Amount.fraction(0.5),
                GroupImportance.L2);
        InputType input = InputType.convolutional(8, 8, 3);

        ModelCost masked = ModelCost.nonZero(block, input);
        ModelCost compacted = ModelCost.of(Compaction.compact(block).graph(), input);

        assertThat(masked.flops()).isEqualTo(compacted.flops()).isLessThan(ModelCost.of(block, input).flops());
    }

    @Test
    void aGraphNeedsItsInputTypes() {
        assertThatThrownBy(() -> ModelCost.of(Graphs.residual()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the graph has 1 inputs but 0 input types were given");
    }
}
