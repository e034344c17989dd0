package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.shears.broker.ManualClock;
import dev.shears.common.events.CancelJob;
import dev.shears.common.events.CommandKey;
import dev.shears.common.events.Event;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobFailed;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.Payload;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.RollBack;
import dev.shears.common.events.SchedulerDecision;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.schedule.Schedule;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Job state machine")
class JobTest {

    static final double DENSE = 0.90;
    static final double GOOD = 0.89;
    static final double BAD = 0.70;

    final ManualClock clock = new ManualClock();
    final List<Event> sent = new ArrayList<>();
    Job job;
    List<Double> targets;

    static String recipe(String policy, int maxRetries) {
        return """
                job: t1
                model: lenet5
                schedule:
                  kind: linear
                  initialSparsity: 0.2
                  finalSparsity: 0.8
                  steps: 4
                fineTune:
                  iterationsPerStep: 50
                accuracyBudget:
                  maxDrop: 0.05
                  policy: %s
                %s  maxRetries: %d
                """.formatted(policy, policy.equals("extra_fine_tune") ? "  extraIterations: 77\n" : "", maxRetries);
    }

    void submit(String policy, int maxRetries) {
        Recipe r = Recipe.parse(recipe(policy, maxRetries));
        targets = Schedule.of(r.schedule()).points().stream().map(p -> p.targetSparsity()).toList();
        job = Job.submit(r, clock);
        take(job.start());
    }

    Job.Outcome take(Job.Outcome o) {
        sent.addAll(o.commands());
        return o;
    }

    Job.Outcome report(long seq, Payload p) {
        clock.advance(Duration.ofSeconds(10));
        return take(job.onReport(Event.of("t1", seq, clock.instant(), p)));
    }

    Job.Outcome completed(long seq, int attempt, double target, double accuracy) {
        return report(seq,
                new StepCompleted(seq, attempt, target, target, Map.of("0_W", target), accuracy, accuracy, 0.3,
                        "ckpt-" + seq + "-" + attempt, "trainer-0", false));
    }

    /** Answers the last sent PruneStep (or JobStarted) with {@code accuracy}. */
    Job.Outcome answer(double accuracy) {
        Event last = lastCommand();
        if (last.payload() instanceof JobStarted) {
            return completed(0, 1, 0, accuracy);
        }
        PruneStep p = (PruneStep) last.payload();
        return completed(p.step(), p.attempt(), p.targetSparsity(), accuracy);
    }

    /** Answers the pending RollBack: the worker restored its checkpoint under its key. */
    Job.Outcome resume() {
        Event last = lastCommand();
        RollBack rb = (RollBack) last.payload();
        return report(rb.toSeq(), JobResumed.of(new CommandKey(rb.attempt(), rb.toSeq()), last.seq() - rb.toSeq(),
                "trainer-0"));
    }

    /** A worker restored the checkpoint of key {@code (attempt, seq)}, having found the {@code lost} ones damaged. */
    Job.Outcome restored(int attempt, long seq, CommandKey... lost) {
        long redone = Math.max(0, job.snapshot().step() - seq);
        return report(seq, new JobResumed(seq, attempt, redone, List.of(lost), "trainer-1"));
    }

    /** The failure of {@code command}, naming it. */
    Job.Outcome failed(Event command, String reason, boolean retryable) {
        return report(command.seq(), JobFailed.of(command, reason, "trainer-0", retryable));
    }

    Job.Outcome publish() {
        return report(lastCommand().seq(), new ModelPublished("t1", "v1", "/models/t1.zip", "a".repeat(64), 0.88, 0.8,
                82_000_000, 21_000_000, 272_474, 70_000, 4.0, 1.5, 120.0, 40.0, 0.36, 0.14, 23.4, 8.9));
    }

    Event lastCommand() {
        for (int i = sent.size() - 1; i >= 0; i--) {
            if (!(sent.get(i).payload() instanceof SchedulerDecision)) {
                return sent.get(i);
            }
        }
        throw new AssertionError("nothing sent");
    }

    List<Payload> payloadsSince(int from) {
        return sent.subList(from, sent.size()).stream().map(Event::payload).toList();
    }

    static int attemptOf(Event e, int current) {
        if (e.payload() instanceof PruneStep p) {
            return p.attempt();
        }
        if (e.payload() instanceof RollBack r) {
            return r.attempt();
        }
        return current;
    }

    /** Every scenario: command keys (attempt, seq) never go down, and repeat only where EVENTS.md has them repeat. */
    @AfterEach
    void keysOnlyGrow() {
        int attempt = 1;
        long prevSeq = -1;
        int prevAttempt = 0;
        Event prev = null;
        for (Event e : sent) {
            if (e.payload() instanceof SchedulerDecision) {
                continue;
            }
            int a = attemptOf(e, attempt);
            if (e.payload() instanceof CancelJob) {
                assertThat(e.seq()).as("CancelJob carries the last command's seq").isEqualTo(prevSeq);
                continue;
            }
            if (!(e.payload() instanceof Finalize)) {
                attempt = a;
            }
            int cmp = a != prevAttempt ? Integer.compare(a, prevAttempt) : Long.compare(e.seq(), prevSeq);
            assertThat(cmp).as("key (%d, %d) after (%d, %d): %s", a, e.seq(), prevAttempt, prevSeq, e.type())
                    .isGreaterThanOrEqualTo(0);
            if (cmp == 0) {
                boolean retry = prev.payload().equals(e.payload());
                boolean afterRollBack = prev.payload() instanceof RollBack && e.payload() instanceof PruneStep;
                assertThat(retry || afterRollBack).as("repeated key (%d, %d) of %s after %s", a, e.seq(), e.type(),
                        prev.type()).isTrue();
            }
            prevAttempt = a;
            prevSeq = e.seq();
            prev = e;
        }
    }

    @Test
    void aJobThatPublishesASensitivityReportFinalizesRightAfterItsDenseStep() {
        Recipe r = Recipe.parse(recipe("stop", 0) + "publish:\n  artifact: sensitivity\n");
        job = Job.submit(r, clock);
        take(job.start());
        answer(DENSE);

        assertThat(lastCommand().payload()).isInstanceOfSatisfying(Finalize.class,
                f -> assertThat(f.lastStep()).isZero());
        assertThat(lastCommand().seq()).isEqualTo(5);
        assertThat(sent).noneMatch(e -> e.payload() instanceof PruneStep);
        publish();
        assertThat(job.state()).isEqualTo(JobState.PUBLISHED);
    }

    @Test
    void runsTheClosedLoopToPublication() {
        submit("stop", 0);
        assertThat(job.state()).isEqualTo(JobState.SUBMITTED);
        assertThat(sent).singleElement().satisfies(e -> {
            assertThat(e.payload()).isInstanceOf(JobStarted.class);
            assertThat(((JobStarted) e.payload()).steps()).isEqualTo(4);
            assertThat(e.seq()).isZero();
        });
        answer(DENSE);
        assertThat(job.state()).isEqualTo(JobState.PRUNING);
        for (int k = 1; k <= 4; k++) {
            PruneStep p = (PruneStep) lastCommand().payload();
            assertThat(p.step()).isEqualTo(k);
            assertThat(p.attempt()).isEqualTo(1);
            assertThat(p.targetSparsity()).isEqualTo(targets.get(k - 1));
            assertThat(p.fineTuneIterations()).isEqualTo(50);
            answer(GOOD);
        }
        assertThat(lastCommand().payload()).isEqualTo(new Finalize(4, 1));
        assertThat(lastCommand().seq()).isEqualTo(5);
        assertThat(job.state()).isEqualTo(JobState.FINALIZING);
        publish();
        assertThat(job.state()).isEqualTo(JobState.PUBLISHED);
        JobSnapshot s = job.snapshot();
        assertThat(s.step()).isEqualTo(4);
        assertThat(s.denseAccuracy()).isEqualTo(DENSE);
        assertThat(s.accuracy()).isEqualTo(GOOD);
        assertThat(s.publication().path()).isEqualTo("/models/t1.zip");
        assertThat(s.publication()).extracting(JobSnapshot.Publication::flops, JobSnapshot.Publication::denseParameters,
                JobSnapshot.Publication::batchLatencyMs, JobSnapshot.Publication::fusedLatencyMs)
                .containsExactly(21_000_000L, 272_474L, 40.0, 0.14);
        assertThat(s.results()).extracting(JobSnapshot.StepResult::decision)
                .containsExactly("dense", "ok", "ok", "ok", "ok");
        assertThat(s.history()).filteredOn(h -> h.direction().equals("command")).hasSize(6);
        assertThat(sent).noneMatch(e -> e.payload() instanceof SchedulerDecision);
    }

    @Test
    void sendsTheNextStepOnlyAfterTheAwaitedStepCompleted() {
        submit("stop", 0);
        answer(DENSE);
        int before = sent.size();
        report(1, new JobProgress(1, 0.5, 1000, "trainer-0"));
        assertThat(sent).hasSize(before);
        answer(GOOD);
        assertThat(((PruneStep) lastCommand().payload()).step()).isEqualTo(2);
    }

    @Test
    void ignoresARedeliveredDuplicateStepCompleted() {
        submit("stop", 0);
        answer(DENSE);
        answer(GOOD);
        int before = sent.size();
        Job.Outcome dup = report(1, new StepCompleted(1, 1, targets.get(0), targets.get(0), Map.of(), GOOD, GOOD, 0.3,
                "ckpt-1-1", "trainer-0", true));
        assertThat(dup.disposition()).isEqualTo(Job.Disposition.DUPLICATE);
        assertThat(dup.commands()).isEmpty();
        assertThat(sent).hasSize(before);
        assertThat(job.snapshot().history().get(job.snapshot().history().size() - 1).accepted()).isFalse();
        assertThat(job.snapshot().step()).isEqualTo(1);
    }

    @Test
    void ignoresASupersededAnswerToAnOlderAttempt() {
        submit("extra_fine_tune", 2);
        answer(DENSE);
        answer(BAD);
        PruneStep extra = (PruneStep) lastCommand().payload();
        assertThat(extra.attempt()).isEqualTo(2);
        int before = sent.size();
        Job.Outcome old = completed(1, 1, extra.targetSparsity(), GOOD);
        assertThat(old.disposition()).isEqualTo(Job.Disposition.DUPLICATE);
        Job.Outcome future = completed(2, 1, 0.5, GOOD);
        assertThat(future.disposition()).isEqualTo(Job.Disposition.SUPERSEDED);
        assertThat(sent).hasSize(before);
    }

    @Test
    void extraFineTuneResendsTheSameStepWithMoreIterationsAndARaisedAttempt() {
        submit("extra_fine_tune", 2);
        answer(DENSE);
        int before = sent.size();
        answer(BAD);
        assertThat(payloadsSince(before)).hasSize(2);
        SchedulerDecision d = (SchedulerDecision) sent.get(before).payload();
        assertThat(d.decision()).isEqualTo("extra_fine_tune");
        assertThat(d.seq()).isEqualTo(1);
        assertThat(lastCommand().payload()).isEqualTo(new PruneStep(1, targets.get(0), 77, false, 2));
        answer(GOOD);
        PruneStep next = (PruneStep) lastCommand().payload();
        assertThat(next.step()).isEqualTo(2);
        assertThat(next.attempt()).as("later commands carry the raised attempt").isEqualTo(2);
        assertThat(next.fineTuneIterations()).isEqualTo(50);
    }

    @Test
    void extraFineTuneOutOfRetriesStopsAtTheLastGoodStep() {
        submit("extra_fine_tune", 2);
        answer(DENSE);
        answer(GOOD);
        answer(GOOD);
        answer(BAD);
        answer(BAD);
        int before = sent.size();
        answer(BAD);
        List<Payload> tail = payloadsSince(before);
        assertThat(tail).hasSize(2);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo("stop");
        RollBack rb = (RollBack) tail.get(1);
        assertThat(rb.toSeq()).isEqualTo(2);
        assertThat(rb.attempt()).isEqualTo(4);
        assertThat(sent.get(before + 1).seq()).isEqualTo(3);
        assertThat(job.snapshot().awaiting()).as("the roll-back's JobResumed").isEqualTo(new JobSnapshot.Key(2, 4));
        resume();
        assertThat(lastCommand().payload()).as("the checkpoint the roll-back wrote").isEqualTo(new Finalize(2, 4));
        assertThat(lastCommand().seq()).isEqualTo(5);
        assertThat(job.state()).isEqualTo(JobState.FINALIZING);
        publish();
        assertThat(job.state()).isEqualTo(JobState.PUBLISHED);
    }

    @Test
    void rollbackRestoresTheLastGoodStepAndRetriesWithASmallerStep() {
        submit("rollback", 2);
        answer(DENSE);
        answer(GOOD);
        int before = sent.size();
        answer(BAD);
        List<Payload> tail = payloadsSince(before);
        assertThat(tail).as("the retry waits for the roll-back's answer").hasSize(2);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo("rollback");
        assertThat(tail.get(1)).isInstanceOfSatisfying(RollBack.class, rb -> {
            assertThat(rb.toSeq()).isEqualTo(1);
            assertThat(rb.attempt()).isEqualTo(2);
        });
        assertThat(sent.get(before + 1).seq()).as("the newest seq it undoes").isEqualTo(2);
        Job.Outcome resumed = resume();
        assertThat(resumed.commands()).hasSize(1);
        PruneStep retry = (PruneStep) lastCommand().payload();
        assertThat(retry.step()).isEqualTo(2);
        assertThat(retry.attempt()).isEqualTo(2);
        assertThat(retry.fineTuneIterations()).isEqualTo(50);
        assertThat(retry.targetSparsity()).isCloseTo((targets.get(0) + targets.get(1)) / 2, within(1e-12));
        answer(GOOD);
        PruneStep next = (PruneStep) lastCommand().payload();
        assertThat(next.step()).isEqualTo(3);
        assertThat(next.targetSparsity()).isEqualTo(targets.get(2));
        assertThat(next.attempt()).isEqualTo(2);
    }

    @Test
    void rollbackHalvesAgainOnEachRetryThenStopsWhenRetriesAreSpent() {
        submit("rollback", 2);
        answer(DENSE);
        answer(GOOD);
        double good = targets.get(0);
        answer(BAD);
        resume();
        double first = ((PruneStep) lastCommand().payload()).targetSparsity();
        answer(BAD);
        resume();
        PruneStep second = (PruneStep) lastCommand().payload();
        assertThat(second.targetSparsity()).isCloseTo((good + first) / 2, within(1e-12));
        assertThat(second.attempt()).isEqualTo(3);
        int before = sent.size();
        answer(BAD);
        List<Payload> tail = payloadsSince(before);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo("stop");
        assertThat(((RollBack) tail.get(1)).toSeq()).isEqualTo(1);
        resume();
        assertThat(lastCommand().payload()).isEqualTo(new Finalize(1, 4));
        assertThat(job.snapshot().results()).extracting(JobSnapshot.StepResult::decision)
                .containsExactly("dense", "ok", "rollback", "rollback", "stop");
    }

    @Test
    void stopPolicyFinalizesAtTheLastGoodStepOnceRolledBack() {
        submit("stop", 3);
        answer(DENSE);
        int before = sent.size();
        answer(BAD);
        resume();
        List<Payload> tail = payloadsSince(before);
        assertThat(tail).extracting(Payload::type).containsExactly("SchedulerDecision", "RollBack", "Finalize");
        assertThat(((RollBack) tail.get(1)).toSeq()).isZero();
        assertThat(tail.get(2)).isEqualTo(new Finalize(0, 2));
    }

    @Test
    void retryableFailureSendsTheSameCommandAgainWithANewEventId() {
        submit("stop", 0);
        answer(DENSE);
        Event step1 = lastCommand();
        int before = sent.size();
        failed(step1, "out of memory", true);
        assertThat(payloadsSince(before)).hasSize(2);
        assertThat(((SchedulerDecision) sent.get(before).payload()).decision()).isEqualTo("retry");
        Event again = lastCommand();
        assertThat(again.payload()).isEqualTo(step1.payload());
        assertThat(again.seq()).isEqualTo(step1.seq());
        assertThat(again.eventId()).isNotEqualTo(step1.eventId());
        answer(GOOD);
        assertThat(((PruneStep) lastCommand().payload()).step()).isEqualTo(2);
    }

    @Test
    void retryableFailuresFailTheJobOnceRetriesAreSpent() {
        submit("stop", 0);
        answer(DENSE);
        for (int i = 0; i < Job.MAX_FAILURE_RETRIES; i++) {
            failed(lastCommand(), "flaky disk", true);
        }
        assertThat(job.state()).isEqualTo(JobState.PRUNING);
        failed(lastCommand(), "flaky disk", true);
        assertThat(job.state()).isEqualTo(JobState.FAILED);
    }

    @Test
    void nonRetryableFailureFailsTheJob() {
        submit("stop", 0);
        int before = sent.size();
        failed(lastCommand(), "recipe names a model file that does not exist", false);
        assertThat(sent).hasSize(before);
        assertThat(job.state()).isEqualTo(JobState.FAILED);
        assertThat(job.snapshot().failure()).contains("does not exist");
        Job.Outcome late = answer(DENSE);
        assertThat(late.disposition()).isEqualTo(Job.Disposition.IGNORED);
    }

    @Test
    void aFailureOfAnotherSeqIsIgnored() {
        submit("stop", 0);
        answer(DENSE);
        Job.Outcome o = report(0, new JobFailed(0, "JobStarted", 1, "old", "trainer-0", false));
        assertThat(o.disposition()).isEqualTo(Job.Disposition.IGNORED);
        assertThat(job.state()).isEqualTo(JobState.PRUNING);
    }

    /**
     * A RollBack that failed used to be taken for the failure of the PruneStep sent after it (the same seq): that
     * step was sent again, and the worker fine-tuned the over-pruned model with it.
     */
    @Test
    void aFailedRollBackIsSentAgainAndTheRetryWaitsForItsAnswer() {
        submit("rollback", 2);
        answer(DENSE);
        answer(GOOD);
        answer(BAD);
        Event rollBack = lastCommand();
        assertThat(rollBack.payload()).isInstanceOf(RollBack.class);
        int before = sent.size();

        failed(rollBack, "java.io.IOException: No space left on device", true);

        List<Payload> tail = payloadsSince(before);
        assertThat(tail).hasSize(2);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo(SchedulerDecision.RETRY);
        assertThat(tail.get(1)).as("the roll-back, not the step after it").isEqualTo(rollBack.payload());
        resume();
        PruneStep retry = (PruneStep) lastCommand().payload();
        assertThat(retry.step()).isEqualTo(2);
        assertThat(retry.targetSparsity()).isCloseTo((targets.get(0) + targets.get(1)) / 2, within(1e-12));
    }

    @Test
    void aRollBackThatCannotBeAppliedFailsTheJob() {
        submit("stop", 0);
        answer(DENSE);
        answer(GOOD);
        answer(BAD);
        failed(lastCommand(), "no checkpoint of step 1 is kept", false);
        assertThat(job.state()).isEqualTo(JobState.FAILED);
        assertThat(job.snapshot().failure()).contains("no checkpoint of step 1");
        assertThat(lastCommand().payload()).as("nothing finalized").isInstanceOf(RollBack.class);
    }

    /** A failure names its command: one of an older attempt of the pending command's seq is not the pending one's. */
    @Test
    void aFailureOfASupersededAttemptOfThePendingSeqIsIgnored() {
        submit("extra_fine_tune", 2);
        answer(DENSE);
        Event first = lastCommand();
        answer(BAD);
        int before = sent.size();
        Job.Outcome o = failed(first, "late answer to attempt 1", true);
        assertThat(o.disposition()).isEqualTo(Job.Disposition.IGNORED);
        assertThat(sent).hasSize(before);
        Job.Outcome pendingOne = failed(lastCommand(), "disk", true);
        assertThat(pendingOne.commands()).extracting(Event::payload).last()
                .isEqualTo(new PruneStep(1, targets.get(0), 77,
                        false, 2));
    }

    @Test
    void aVersion1FailureIsMatchedBySeqAloneAsItWas() {
        submit("rollback", 2);
        answer(DENSE);
        answer(GOOD);
        answer(BAD);
        Event rollBack = lastCommand();
        report(2, new JobFailed(2, "", 0, "disk", "trainer-0", true));
        assertThat(lastCommand().payload()).isEqualTo(rollBack.payload());
    }

    /**
     * The extra fine-tune's checkpoint is lost after the scheduler accepted it and sent Finalize: the worker is back at
     * the step's first checkpoint, the model the budget refused. It used to count as nothing lost (the same seq), and
     * that model was published.
     */
    @Test
    void aLostExtraFineTuneIsSentAgainUnderANewAttemptNotFinalized() {
        submit("extra_fine_tune", 2);
        answer(DENSE);
        answer(GOOD);
        answer(GOOD);
        answer(GOOD);
        answer(BAD);
        Event finalizeFirst = null;
        answer(GOOD);
        finalizeFirst = lastCommand();
        assertThat(finalizeFirst.payload()).isEqualTo(new Finalize(4, 2));
        int before = sent.size();

        restored(1, 4, new CommandKey(2, 4));

        List<Payload> tail = payloadsSince(before);
        assertThat(tail).hasSize(2);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo(SchedulerDecision.REDO);
        assertThat(tail.get(1)).isEqualTo(new PruneStep(4, targets.get(3), 77, false, 3));
        assertThat(failed(finalizeFirst, "the checkpoint is not (attempt 2, seq 4)", false).disposition())
                .as("the refused Finalize answers a command no longer pending").isEqualTo(Job.Disposition.IGNORED);
        answer(GOOD);
        assertThat(lastCommand().payload()).isEqualTo(new Finalize(4, 3));
        publish();
        assertThat(job.state()).isEqualTo(JobState.PUBLISHED);
    }

    /**
     * The roll-back's checkpoint and the step after it are lost: the worker is back at the over-pruned step the budget
     * refused. It used to count as nothing lost (the seq the job was at), and the job hung on the next step, which the
     * worker refuses (its attempt's keys were lost).
     */
    @Test
    void aLostRollBackIsSentAgainUnderANewAttemptThenTheRetry() {
        submit("rollback", 2);
        answer(DENSE);
        answer(GOOD);
        answer(BAD);
        resume();
        double smaller = ((PruneStep) lastCommand().payload()).targetSparsity();
        answer(GOOD);
        assertThat(lastCommand().payload()).isEqualTo(new PruneStep(3, targets.get(2), 50, false, 2));
        int before = sent.size();

        restored(1, 2, new CommandKey(2, 1), new CommandKey(2, 2));

        List<Payload> tail = payloadsSince(before);
        assertThat(tail).hasSize(2);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo(SchedulerDecision.REDO);
        assertThat(tail.get(1)).isInstanceOfSatisfying(RollBack.class, rb -> {
            assertThat(rb.toSeq()).isEqualTo(1);
            assertThat(rb.attempt()).isEqualTo(3);
        });
        resume();
        assertThat(lastCommand().payload()).isEqualTo(new PruneStep(2, smaller, 50, false, 3));
        answer(GOOD);
        assertThat(lastCommand().payload()).isEqualTo(new PruneStep(3, targets.get(2), 50, false, 3));
    }

    /** The stop's roll-back is lost while its Finalize waits: the worker is back at the step that broke the budget. */
    @Test
    void aLostRollBackOfAStopIsSentAgainBeforeTheFinalize() {
        submit("stop", 0);
        answer(DENSE);
        answer(GOOD);
        answer(BAD);
        resume();
        assertThat(lastCommand().payload()).isEqualTo(new Finalize(1, 2));
        int before = sent.size();

        restored(1, 2, new CommandKey(2, 1));

        assertThat(payloadsSince(before)).extracting(Payload::type).containsExactly("SchedulerDecision", "RollBack");
        resume();
        assertThat(lastCommand().payload()).isEqualTo(new Finalize(1, 3));
    }

    @Test
    void anUnaskedResumeThatLostStepsRaisesTheAttemptAndSendsThemAgain() {
        submit("stop", 0);
        answer(DENSE);
        answer(GOOD);
        answer(GOOD);
        answer(GOOD);
        assertThat(((PruneStep) lastCommand().payload()).step()).isEqualTo(4);
        int before = sent.size();
        restored(1, 1, new CommandKey(1, 2), new CommandKey(1, 3));
        List<Payload> tail = payloadsSince(before);
        assertThat(tail).hasSize(2);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo(SchedulerDecision.REDO);
        assertThat(tail.get(1)).isEqualTo(new PruneStep(2, targets.get(1), 50, false, 2));
        Job.Outcome stale = completed(4, 1, targets.get(3), GOOD);
        assertThat(stale.disposition()).as("the answer to the lost attempt").isEqualTo(Job.Disposition.SUPERSEDED);
        answer(GOOD);
        answer(GOOD);
        assertThat(lastCommand().payload()).isEqualTo(new PruneStep(4, targets.get(3), 50, false, 2));
        answer(GOOD);
        assertThat(lastCommand().payload()).isEqualTo(new Finalize(4, 2));
    }

    /** The worker applied the awaited step, then found its checkpoint damaged: that key is spent, so a new attempt. */
    @Test
    void aResumeThatLostTheAwaitedStepSendsItAgainUnderANewAttempt() {
        submit("stop", 0);
        answer(DENSE);
        answer(GOOD);
        assertThat(lastCommand().payload()).isEqualTo(new PruneStep(2, targets.get(1), 50, false, 1));
        int before = sent.size();
        restored(1, 1, new CommandKey(1, 2));
        List<Payload> tail = payloadsSince(before);
        assertThat(tail).hasSize(2);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo(SchedulerDecision.REDO);
        assertThat(tail.get(1)).isEqualTo(new PruneStep(2, targets.get(1), 50, false, 2));
        answer(GOOD);
        assertThat(lastCommand().payload()).isEqualTo(new PruneStep(3, targets.get(2), 50, false, 2));
    }

    @Test
    void aResumeThatLostNothingSendsNothing() {
        submit("stop", 0);
        report(0, new JobProgress(0, 0.1, 10, "trainer-0"));
        assertThat(job.state()).isEqualTo(JobState.PRETRAINING);
        answer(DENSE);
        answer(GOOD);
        int before = sent.size();
        restored(1, 1);
        assertThat(sent).hasSize(before);
    }

    /** A worker of version 1 names no keys: the scheduler judges its restore by seqs, as it did. */
    @Test
    void aVersion1ResumeIsJudgedBySeqs() {
        submit("stop", 0);
        answer(DENSE);
        answer(GOOD);
        answer(GOOD);
        int before = sent.size();
        report(1, new JobResumed(1, 0, 0, List.of(), "trainer-1"));
        assertThat(payloadsSince(before)).hasSize(2).last().isEqualTo(new PruneStep(2, targets.get(1), 50, false, 2));
        answer(GOOD);
        before = sent.size();
        report(2, new JobResumed(2, 0, 0, List.of(), "trainer-1"));
        assertThat(sent).as("at the position: nothing lost").hasSize(before);
    }

    @Test
    void aResumeThatTakesAnInterruptedStepUpMidWaySaysSoInTheHistoryAndLosesNoStep() {
        submit("stop", 0);
        answer(DENSE);
        answer(GOOD);
        int before = sent.size();

        report(1, new JobResumed(1, 1, 0, List.of(), 35, 4, "trainer-1"));

        assertThat(sent).as("nothing accepted was lost: nothing is sent again").hasSize(before);
        assertThat(job.snapshot().history().get(job.snapshot().history().size() - 1).detail())
                .contains("the interrupted step goes on from iteration 35, 4 iterations lost");
    }

    @Test
    void cancelSendsCancelJobWithTheLastSeqAndIgnoresLaterReports() {
        submit("stop", 0);
        answer(DENSE);
        answer(GOOD);
        take(job.cancel("cancelled by alice"));
        Event cancel = sent.get(sent.size() - 1);
        assertThat(cancel.payload()).isEqualTo(new CancelJob("cancelled by alice"));
        assertThat(cancel.seq()).isEqualTo(2);
        assertThat(job.state()).isEqualTo(JobState.CANCELLED);
        int before = sent.size();
        assertThat(completed(2, 1, targets.get(1), GOOD).disposition()).isEqualTo(Job.Disposition.IGNORED);
        assertThat(sent).hasSize(before);
        assertThatThrownBy(() -> job.cancel("again")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already cancelled").hasMessageContaining("fix:");
    }

    @Test
    void aPublicationForNoFinalizeIsIgnored() {
        submit("stop", 0);
        answer(DENSE);
        assertThat(report(5, ModelPublished.withoutCost("t1", "v1", "/x", "b".repeat(64), 0.8, 0.8)).disposition())
                .isEqualTo(Job.Disposition.DUPLICATE);
        assertThat(job.state()).isEqualTo(JobState.PRUNING);
    }

    @Test
    void measuresTheStepFromCommandToAcceptedReport() {
        submit("stop", 0);
        Job.Outcome dense = answer(DENSE);
        assertThat(dense.stepDuration()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void aRestoredSnapshotCarriesOnExactlyWhereTheJobWas() {
        submit("rollback", 2);
        answer(DENSE);
        answer(GOOD);
        answer(BAD);
        JobSnapshot snap = job.snapshot();
        Job restored = Job.restore(snap, clock);
        assertThat(restored.snapshot()).isEqualTo(snap);
        job = restored;
        int before = sent.size();
        completed(2, 1, targets.get(1), GOOD);
        assertThat(sent).as("the superseded answer stays ignored").hasSize(before);
        resume();
        assertThat(((PruneStep) lastCommand().payload()).targetSparsity()).as("the retry's smaller step, kept")
                .isCloseTo((targets.get(0) + targets.get(1)) / 2, within(1e-12));
        answer(GOOD);
        assertThat(((PruneStep) lastCommand().payload()).step()).isEqualTo(3);
    }

    @Test
    void keepsABoundedHistory() {
        submit("stop", 0);
        answer(DENSE);
        for (int i = 0; i < Job.HISTORY_LIMIT + 10; i++) {
            completed(0, 1, 0, DENSE);
        }
        assertThat(job.snapshot().history()).hasSize(Job.HISTORY_LIMIT);
    }

    @Test
    void aStalledCommandIsSentAgainUnderItsOwnKeyThenTheJobFails() {
        submit("stop", 0);
        answer(DENSE);
        Event step1 = lastCommand();
        Duration timeout = Duration.ofMinutes(30);
        clock.advance(timeout.minusSeconds(1));
        assertThat(job.stalled(timeout, 2)).as("not yet").isNull();
        clock.advance(Duration.ofSeconds(2));
        int before = sent.size();
        take(job.stalled(timeout, 2));
        assertThat(payloadsSince(before)).hasSize(2);
        assertThat(((SchedulerDecision) sent.get(before).payload()).decision()).isEqualTo(SchedulerDecision.RESEND);
        assertThat(lastCommand().payload()).as("the same key: a new attempt would be an extra fine-tune")
                .isEqualTo(step1.payload());
        assertThat(lastCommand().eventId()).isNotEqualTo(step1.eventId());
        assertThat(job.stalled(timeout, 2)).as("the clock starts again at the resend").isNull();
        clock.advance(timeout);
        take(job.stalled(timeout, 2));
        clock.advance(timeout);
        before = sent.size();
        take(job.stalled(timeout, 2));
        List<Payload> tail = payloadsSince(before);
        assertThat(tail).extracting(Payload::type).containsExactly("SchedulerDecision", "CancelJob");
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo(SchedulerDecision.STALLED);
        assertThat(job.state()).isEqualTo(JobState.FAILED);
        assertThat(job.snapshot().failure()).contains("nothing heard of PruneStep seq 1 attempt 1");
        assertThat(job.snapshot().ended()).isNotNull();
        assertThat(job.stalled(timeout, 2)).as("an ended job stalls no more").isNull();
    }

    @Test
    void progressOfThePendingSeqKeepsAJobAliveAndProgressOfAnotherDoesNot() {
        submit("stop", 0);
        answer(DENSE);
        Duration timeout = Duration.ofMinutes(30);
        for (int i = 0; i < 10; i++) {
            clock.advance(Duration.ofMinutes(10));
            job.onReport(Event.of("t1", 1, clock.instant(), new JobProgress(1, 0.1 * i, 100, "trainer-0")));
            assertThat(job.stalled(timeout, 0)).isNull();
        }
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofMinutes(10));
            job.onReport(Event.of("t1", 0, clock.instant(), new JobProgress(0, 1, 100, "trainer-0")));
        }
        clock.advance(Duration.ofSeconds(1));
        assertThat(take(job.stalled(timeout, 0)).commands()).extracting(Event::type)
                .containsExactly("SchedulerDecision", "CancelJob");
    }

    @Test
    void aResendsCountSurvivesARestoreAndAReportResetsIt() {
        submit("stop", 0);
        answer(DENSE);
        Duration timeout = Duration.ofMinutes(30);
        clock.advance(timeout.plusSeconds(1));
        take(job.stalled(timeout, 1));
        assertThat(job.snapshot().internal().stallResends()).isEqualTo(1);
        job = Job.restore(job.snapshot(), clock);
        assertThat(job.stalled(timeout, 1)).as("the clock starts again at a restore").isNull();
        report(1, new JobProgress(1, 0.5, 10, "trainer-0"));
        assertThat(job.snapshot().internal().stallResends()).as("heard of again").isZero();
        clock.advance(timeout.plusSeconds(1));
        assertThat(take(job.stalled(timeout, 1)).commands()).extracting(Event::type)
                .containsExactly("SchedulerDecision", "PruneStep");
    }

    @Test
    void aPendingJobStartedIsStoredOnceAndRestoredFromTheRecipe() {
        submit("stop", 0);
        JobSnapshot s = job.snapshot();
        assertThat(s.internal().pendingCommand()).as("the recipe is in the state already").isNull();
        assertThat(s.awaiting()).isEqualTo(new JobSnapshot.Key(0, 1));
        job = Job.restore(s, clock);
        clock.advance(Duration.ofHours(1));
        int before = sent.size();
        take(job.stalled(Duration.ofMinutes(30), 1));
        assertThat(sent.get(sent.size() - 1).payload()).isEqualTo(sent.get(0).payload());
        assertThat(sent).hasSize(before + 2);
        answer(DENSE);
        assertThat(job.state()).isEqualTo(JobState.PRUNING);
    }

    @Test
    void aStateRecordOverItsBoundLosesItsOldestHistoryAndCountsIt() {
        // a recipe of 350,000 bytes leaves less room for the history than the bound it would take alone
        Recipe r = Recipe.parse(SchedulerTransactionsTest.withGlobs(recipe("stop", 0), 35_000));
        targets = Schedule.of(r.schedule()).points().stream().map(p -> p.targetSparsity()).toList();
        job = Job.submit(r, clock);
        take(job.start());
        answer(DENSE);
        String reason = "\u6570".repeat(2000); // 6,000 bytes, a detail of 1,000 once cut to its bound
        for (int i = 0; i < Job.HISTORY_LIMIT; i++) {
            report(0, new JobFailed(0, "JobStarted", 1, reason, "trainer-0", false));
        }
        JobSnapshot full = job.snapshot();
        assertThat(full.history().get(full.history().size() - 1).detail().getBytes(StandardCharsets.UTF_8))
                .hasSizeLessThanOrEqualTo(Job.TEXT_BYTES);
        assertThat(full.toJson().length).as("over the bound before the record is written")
                .isGreaterThan(Job.STATE_BYTES);

        byte[] record = job.stateRecord();
        assertThat(record.length).isLessThanOrEqualTo(Job.TRIMMED_STATE_BYTES);
        JobSnapshot trimmed = job.snapshot();
        assertThat(trimmed.history().get(trimmed.history().size() - 1))
                .isEqualTo(full.history().get(full.history().size() - 1));
        assertThat(trimmed.historyTrimmed())
                .isEqualTo(full.historyTrimmed() + full.history().size() - trimmed.history().size());
        assertThat(trimmed.results()).isEqualTo(full.results());
        assertThat(Job.restore(trimmed, clock).snapshot()).isEqualTo(trimmed);
        answer(GOOD);
        assertThat(((PruneStep) lastCommand().payload()).step()).as("the job goes on").isEqualTo(2);
    }

    @Test
    void resultsBeyondTheirLimitAreDroppedOldestFirstAndCounted() {
        Recipe r = Recipe.parse(recipe("stop", 0).replace("steps: 4", "steps: " + (Job.RESULTS_LIMIT + 10)));
        targets = Schedule.of(r.schedule()).points().stream().map(p -> p.targetSparsity()).toList();
        job = Job.submit(r, clock);
        take(job.start());
        answer(DENSE);
        for (int k = 1; k <= Job.RESULTS_LIMIT + 10; k++) {
            answer(DENSE);
        }
        JobSnapshot s = job.snapshot();
        assertThat(s.results()).hasSize(Job.RESULTS_LIMIT);
        assertThat(s.resultsTrimmed()).isEqualTo(11);
        assertThat(s.results().get(0).seq()).isEqualTo(11);
        assertThat(job.stateRecord().length).isLessThanOrEqualTo(Job.STATE_BYTES);
        assertThat(lastCommand().payload()).isInstanceOf(Finalize.class);
    }

    @Test
    void aDetailIsCutToItsBytesBetweenCodePoints() {
        String emoji = "\ud83d\ude00".repeat(400); // 1,600 bytes
        String cut = Job.cutUtf8(emoji, Job.TEXT_BYTES);
        assertThat(cut.getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(Job.TEXT_BYTES);
        assertThat(cut).endsWith("\u2026").startsWith("\ud83d\ude00");
        assertThat(Character.isHighSurrogate(cut.charAt(cut.length() - 2))).isFalse();
        assertThat(Job.cutUtf8("short", Job.TEXT_BYTES)).isEqualTo("short");
    }
}
