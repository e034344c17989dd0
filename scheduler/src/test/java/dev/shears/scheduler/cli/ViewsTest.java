package dev.shears.scheduler.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ViewsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String publication(String json) throws Exception {
        StringWriter text = new StringWriter();
        Views.publication(new PrintWriter(text), JSON.readTree(json));
        return text.toString();
    }

    @Test
    void aPublicationWithItsCostEndsInATableOfDenseAgainstPublished() throws Exception {
        String out = publication("""
                {"publication": {"name": "resnet20", "version": "v1", "path": "/m/model.zip", "sha256": "ab",
                 "accuracy": 0.91, "sparsity": 0.5, "denseFlops": 82000000, "flops": 21000000,
                 "denseParameters": 272474, "parameters": 70000, "denseLatencyMs": 4.0, "latencyMs": 1.5,
                 "denseBatchLatencyMs": 120.0, "batchLatencyMs": 40.0, "denseFusedLatencyMs": 0.36,
                 "fusedLatencyMs": 0.14, "denseFusedBatchLatencyMs": 23.4, "fusedBatchLatencyMs": 8.9}}""");

        assertThat(out).contains("published resnet20 version v1")
                .containsPattern("fused, batch 1\\s+0.360 ms\\s+0.140 ms")
                .containsPattern("fused, batch 64\\s+23.400 ms\\s+8.900 ms")
                .containsPattern("FLOPs / example\\s+82.00 M\\s+21.00 M")
                .containsPattern("parameters\\s+272474\\s+70000")
                .containsPattern("latency \\(batch 1\\)\\s+4.000 ms\\s+1.500 ms")
                .containsPattern("latency \\(batch 64\\)\\s+120.000 ms\\s+40.000 ms");
    }

    @Test
    void aPublicationWhoseCostIsNotKnownHasNoTable() throws Exception {
        String out = publication("""
                {"publication": {"name": "lenet5", "version": "v1", "path": "/m/model.zip", "sha256": "ab",
                 "accuracy": 0.9, "sparsity": 0.9, "denseFlops": 0}}""");

        assertThat(out).contains("published lenet5").doesNotContain("FLOPs");
    }

    @Test
    void aPublicationWithoutFusedLatenciesHasNoFusedRows() throws Exception {
        String out = publication("""
                {"publication": {"name": "m", "version": "v1", "path": "/m/model.zip", "sha256": "ab",
                 "accuracy": 0.9, "sparsity": 0.9, "denseFlops": 10, "flops": 5, "denseParameters": 3,
                 "parameters": 2, "denseLatencyMs": 4.0, "latencyMs": 1.5, "denseBatchLatencyMs": 120.0,
                 "batchLatencyMs": 40.0, "fusedLatencyMs": 0}}""");

        assertThat(out).contains("latency (batch 64)").doesNotContain("fused");
    }
}
