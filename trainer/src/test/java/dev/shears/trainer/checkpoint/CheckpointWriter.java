package dev.shears.trainer.checkpoint;

import dev.shears.prune.Amount;
import dev.shears.prune.Pruning;
import dev.shears.trainer.train.MaskedTraining;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A process that does little but write checkpoints, for killing in the middle of one: it resumes from the newest good
 * checkpoint in {@code DIR} (or starts), then forever trains one batch, prunes a little more and saves, printing
 * {@code writing <seq>} before each save and {@code saved <seq>} once it has returned (durable).
 *
 * <p>Usage: {@code CheckpointWriter DIR}
 */
public final class CheckpointWriter {

    public static void main(String[] args) throws Exception {
        Checkpoints checkpoints = new Checkpoints(Path.of(args[0]));
        var restored = checkpoints.restoreLatest();
        MultiLayerNetwork net = restored.map(r -> r.model().network()).orElseGet(ResumeProbe::network);
        Pruning pruning = restored.map(r -> r.model().pruning()).orElseGet(() -> Pruning.of(net));
        net.setListeners(new MaskedTraining(pruning));
        long seq = restored.map(r -> r.state().seq()).orElse(0L);
        System.out.println("restored " + seq);
        System.out.flush();
        while (true) {
            seq++;
            ResumeProbe.train(net, seq, 1);
            pruning.l1Unstructured("fc.weight", Amount.count(1));
            System.out.println("writing " + seq);
            System.out.flush();
            checkpoints.save(net, pruning, new CheckpointState("crash", seq, seq, 0, seq, 7, 0, 0, 0.5, 1.0,
                    Map.of(), 0.5, List.of(), Instant.now()), 2);
            System.out.println("saved " + seq);
            System.out.flush();
        }
    }

    private CheckpointWriter() {}
}
