package dev.shears.prune.conformance;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** One case of the torch-prune conformance format (see the fixtures' README). */
@JsonIgnoreProperties(ignoreUnknown = true)
record Fixture(
        String name,
        String description,
        String check,
        Map<String, Module> modules,
        List<Step> steps,
        Map<String, Tensor> tensors,
        Map<String, Tensor> expected,
        @JsonProperty("expected_absent") List<String> expectedAbsent,
        @JsonProperty("expected_properties") List<Property> expectedProperties,
        @JsonProperty("expected_error") String expectedError) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Module(String type, @JsonProperty("torch_repr") String torchRepr) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Step(
            String op,
            String module,
            String param,
            List<String> targets,
            JsonNode args,
            @JsonProperty("importance_scores") Map<String, Tensor> importanceScores,
            Tensor mask,
            @JsonProperty("expected_after") Map<String, Tensor> expectedAfter) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Tensor(long[] shape, float[] data) {
        /** A fresh C-order float32 array holding these values. */
        INDArray toArray() {
            if (shape.length == 0) {
                return Nd4j.scalar(DataType.FLOAT, data[0]);
            }
            return Nd4j.create(data.clone(), shape, 'c');
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Property(String target, String property, Integer dim, String reference, Integer step, double value) {
    }
}
