package dev.shears.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.prune.Amount;
import dev.shears.prune.Pruning;
import dev.shears.trainer.train.MaskedTraining;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class CheckpointsTest {

    @TempDir
    Path dir;

    static CheckpointState state(long seq, long iteration, double accuracy) {
        return new CheckpointState("job-1", seq, iteration, 0, iteration, 7, 0.5, 0.5, accuracy, 1.0,
                Map.of("fc.weight", 0.5), 0.9, List.of(), Instant.parse("2026-11-23T00:00:00Z"));
    }

    @Test
    void restoresModelUpdaterAndPruningStateExactly() throws IOException {
        MultiLayerNetwork net = ResumeProbe.network();
        Pruning pruning = Pruning.of(net);
        net.setListeners(new MaskedTraining(pruning));
        ResumeProbe.train(net, 0, 3);
        pruning.l1Unstructured("conv.weight", Amount.fraction(0.5));
        ResumeProbe.train(net, 3, 2);
        Checkpoints checkpoints = new Checkpoints(dir, 3);
        checkpoints.save(net, pruning, state(1, 5, 0.8));

        Checkpoints.Restored restored = checkpoints.restoreLatest().orElseThrow();
        MultiLayerNetwork back = restored.model().network();
        assertThat(back.params()).isEqualTo(net.params());
        assertThat(back.getUpdater().getStateViewArray()).isEqualTo(net.getUpdater().getStateViewArray());
        assertThat(restored.model().pruning().mask("conv.weight")).isEqualTo(pruning.mask("conv.weight"));
        assertThat(restored.model().pruning().orig("conv.weight")).isEqualTo(pruning.orig("conv.weight"));
        assertThat(restored.state()).isEqualTo(state(1, 5, 0.8));
        assertThat(restored.rejected()).isEmpty();
    }

    @Test
    void fallsBackToThePreviousCheckpointWhenTheNewestIsCorrupt() throws IOException {
        MultiLayerNetwork net = ResumeProbe.network();
        Pruning pruning = Pruning.of(net);
        Checkpoints checkpoints = new Checkpoints(dir, 5);
        checkpoints.save(net, pruning, state(1, 10, 0.7));
        INDArray first = net.params().dup();
        ResumeProbe.train(net, 10, 2);
        Checkpoints.Checkpoint newest = checkpoints.save(net, pruning, state(2, 12, 0.8));
        try (RandomAccessFile f = new RandomAccessFile(newest.dir().resolve(Checkpoints.MODEL).toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0xFF); // one flipped byte
        }
        Checkpoints.Restored restored = checkpoints.restoreLatest().orElseThrow();
        assertThat(restored.state().seq()).isEqualTo(1);
        assertThat(restored.model().network().params()).isEqualTo(first);
        assertThat(restored.rejected()).singleElement().asString().contains("SHA-256");
    }

    @Test
    void fallsBackWhenTheNewestIsTruncatedOrHalfWritten() throws IOException {
        MultiLayerNetwork net = ResumeProbe.network();
        Pruning pruning = Pruning.of(net);
        Checkpoints checkpoints = new Checkpoints(dir, 5);
        checkpoints.save(net, pruning, state(1, 10, 0.7));
        Checkpoints.Checkpoint newest = checkpoints.save(net, pruning, state(2, 12, 0.8));
        try (RandomAccessFile f = new RandomAccessFile(newest.dir().resolve(Checkpoints.MODEL).toFile(), "rw")) {
            f.setLength(f.length() / 3);
        }
        Files.createDirectory(dir.resolve(".tmp-ckpt-000003-0000000014-1-1")); // a crash mid-write
        Checkpoints.Restored restored = checkpoints.restoreLatest().orElseThrow();
        assertThat(restored.state().seq()).isEqualTo(1);
        assertThat(Files.exists(dir.resolve(".tmp-ckpt-000003-0000000014-1-1"))).isFalse();
    }

    @Test
    void aFailedWriteCommitsNothingAndLeavesEarlierCheckpointsIntact() throws IOException {
        MultiLayerNetwork net = ResumeProbe.network();
        Pruning pruning = Pruning.of(net);
        Checkpoints checkpoints = new Checkpoints(dir, 5);
        checkpoints.save(net, pruning, state(1, 10, 0.7));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            boolean root = "root".equals(System.getProperty("user.name"));
            if (!root) { // root writes through permissions; the check below still runs for others
                assertThatThrownBy(() -> checkpoints.save(net, pruning, state(2, 12, 0.8)))
                        .isInstanceOf(IOException.class);
            }
        } finally {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Checkpoints broken = new Checkpoints(dir.resolve("not-a-dir"), 5);
        Files.writeString(dir.resolve("not-a-dir"), "a file where the directory should be");
        assertThatThrownBy(() -> broken.save(net, pruning, state(2, 12, 0.8))).isInstanceOf(IOException.class);
        assertThat(checkpoints.list()).extracting(Checkpoints.Checkpoint::seq).containsExactly(1L);
        assertThat(checkpoints.restoreLatest()).map(r -> r.state().seq()).contains(1L);
    }

    @Test
    void keepsTheNewestAndTheMostAccurate() throws IOException {
        MultiLayerNetwork net = ResumeProbe.network();
        Pruning pruning = Pruning.of(net);
        Checkpoints checkpoints = new Checkpoints(dir, 2);
        checkpoints.save(net, pruning, state(1, 10, 0.70));
        checkpoints.save(net, pruning, state(2, 20, 0.95));
        checkpoints.save(net, pruning, state(3, 30, 0.80));
        checkpoints.save(net, pruning, state(4, 40, 0.60));
        checkpoints.save(net, pruning, state(5, 50, 0.65));
        assertThat(checkpoints.list()).extracting(Checkpoints.Checkpoint::seq).containsExactly(2L, 4L, 5L);
    }

    @Test
    void ordersByTheCommandKeySoThatAHigherAttemptAtALowerSeqIsTheNewest() throws IOException {
        MultiLayerNetwork net = ResumeProbe.network();
        Pruning pruning = Pruning.of(net);
        Checkpoints checkpoints = new Checkpoints(dir, 5);
        checkpoints.save(net, pruning, state(1, 10, 0.7));
        checkpoints.save(net, pruning, state(3, 30, 0.7));
        Checkpoints.Checkpoint rolledBack = checkpoints.save(net, pruning, state(1, 10, 0.7).rekeyed(2, 2, Instant.EPOCH));

        assertThat(rolledBack.id()).isEqualTo("ckpt-000001-0000000010-a000002");
        assertThat(checkpoints.list()).extracting(Checkpoints.Checkpoint::seq, Checkpoints.Checkpoint::attempt)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, 1), org.assertj.core.groups.Tuple.tuple(3L, 1),
                        org.assertj.core.groups.Tuple.tuple(1L, 2));
        assertThat(checkpoints.restoreLatest().orElseThrow().state().attempt()).isEqualTo(2);
        assertThat(checkpoints.latest().orElseThrow().state().stepsUndone()).isEqualTo(2);
        assertThat(checkpoints.restore(3).orElseThrow().state().seq()).isEqualTo(3);
        assertThat(checkpoints.restore(2)).isEmpty();
    }

    @Test
    void readsAStateWrittenBeforeAttemptsExistedAsAttemptOne() throws IOException {
        Path file = dir.resolve("state.json");
        Files.writeString(file, "{\"job\":\"job-1\",\"seq\":2,\"iteration\":20,\"epoch\":0,\"batchInEpoch\":20,"
                + "\"seed\":7,\"targetSparsity\":0.5,\"achievedSparsity\":0.5,\"accuracy\":0.8,\"loss\":1.0,"
                + "\"layerSparsity\":{},\"denseAccuracy\":0.9,\"history\":[],\"time\":\"2026-11-23T00:00:00Z\"}");
        CheckpointState old = Checkpoints.readState(dir);
        assertThat(old.attempt()).isEqualTo(1);
        assertThat(old.stepsUndone()).isZero();
        assertThat(old.seq()).isEqualTo(2);
    }

    @Test
    void emptyDirectoryRestoresNothing() throws IOException {
        assertThat(new Checkpoints(dir.resolve("none"), 1).restoreLatest()).isEqualTo(Optional.empty());
    }

    @Test
    void resumingInAFreshProcessIsBitIdenticalToTrainingStraightThrough() throws Exception {
        int k = 6;
        int m = 5;
        MultiLayerNetwork straight = ResumeProbe.network();
        Pruning pruning = Pruning.of(straight);
        straight.setListeners(new MaskedTraining(pruning));
        ResumeProbe.train(straight, 0, 3);
        pruning.l1Unstructured("fc.weight", Amount.fraction(0.5));
        ResumeProbe.train(straight, 3, k - 3);
        new Checkpoints(dir, 3).save(straight, pruning, state(1, k, 0.5));
        ResumeProbe.train(straight, k, m);

        Path out = dir.resolve("params.bin");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                ResumeProbe.class.getName(), dir.toString(), Integer.toString(m), out.toString()));
        Process process = new ProcessBuilder(command).inheritIO().start();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("resume process finished").isTrue();
        assertThat(process.exitValue()).isZero();
        INDArray resumed = Nd4j.readBinary(out.toFile());
        assertThat(resumed).isEqualTo(straight.params());
    }
}
