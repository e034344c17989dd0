package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.shears.common.events.CancelJob;
import dev.shears.common.events.Command;
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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
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

    final FakeClock clock = new FakeClock();
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
        return report(seq, new StepCompleted(seq, attempt, target, target, Map.of("0_W", target), accuracy, accuracy, 0.3,
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

    Job.Outcome publish() {
        return report(lastCommand().seq(), new ModelPublished("t1", "v1", "/models/t1.zip", "a".repeat(64), 0.88, 0.8));
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
        assertThat(lastCommand().payload()).isEqualTo(new Finalize(4));
        assertThat(lastCommand().seq()).isEqualTo(5);
        assertThat(job.state()).isEqualTo(JobState.FINALIZING);
        publish();
        assertThat(job.state()).isEqualTo(JobState.PUBLISHED);
        JobSnapshot s = job.snapshot();
        assertThat(s.step()).isEqualTo(4);
        assertThat(s.denseAccuracy()).isEqualTo(DENSE);
        assertThat(s.accuracy()).isEqualTo(GOOD);
        assertThat(s.publication().path()).isEqualTo("/models/t1.zip");
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
        assertThat(tail).hasSize(3);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo("stop");
        RollBack rb = (RollBack) tail.get(1);
        assertThat(rb.toSeq()).isEqualTo(2);
        assertThat(rb.attempt()).isEqualTo(4);
        assertThat(sent.get(before + 1).seq()).isEqualTo(3);
        assertThat(tail.get(2)).isEqualTo(new Finalize(2));
        assertThat(sent.get(before + 2).seq()).isEqualTo(5);
        assertThat(job.state()).isEqualTo(JobState.FINALIZING);
        report(2, new JobResumed(2, 1, "trainer-0"));
        assertThat(sent).hasSize(before + 3);
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
        assertThat(tail).hasSize(3);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo("rollback");
        assertThat(tail.get(1)).isInstanceOfSatisfying(RollBack.class, rb -> {
            assertThat(rb.toSeq()).isEqualTo(1);
            assertThat(rb.attempt()).isEqualTo(2);
        });
        assertThat(sent.get(before + 1).seq()).as("the newest seq it undoes").isEqualTo(2);
        PruneStep retry = (PruneStep) tail.get(2);
        assertThat(retry.step()).isEqualTo(2);
        assertThat(retry.attempt()).isEqualTo(2);
        assertThat(retry.fineTuneIterations()).isEqualTo(50);
        assertThat(retry.targetSparsity()).isCloseTo((targets.get(0) + targets.get(1)) / 2, within(1e-12));
        Job.Outcome resumed = report(1, new JobResumed(1, 1, "trainer-0"));
        assertThat(resumed.commands()).as("an asked-for resume sends nothing").isEmpty();
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
        double first = ((PruneStep) lastCommand().payload()).targetSparsity();
        answer(BAD);
        PruneStep second = (PruneStep) lastCommand().payload();
        assertThat(second.targetSparsity()).isCloseTo((good + first) / 2, within(1e-12));
        assertThat(second.attempt()).isEqualTo(3);
        int before = sent.size();
        answer(BAD);
        List<Payload> tail = payloadsSince(before);
        assertThat(((SchedulerDecision) tail.get(0)).decision()).isEqualTo("stop");
        assertThat(((RollBack) tail.get(1)).toSeq()).isEqualTo(1);
        assertThat(tail.get(2)).isEqualTo(new Finalize(1));
        assertThat(job.snapshot().results()).extracting(JobSnapshot.StepResult::decision)
                .containsExactly("dense", "ok", "rollback", "rollback", "stop");
    }

    @Test
    void stopPolicyFinalizesAtTheLastGoodStepAtOnce() {
        submit("stop", 3);
        answer(DENSE);
        int before = sent.size();
        answer(BAD);
        List<Payload> tail = payloadsSince(before);
        assertThat(tail).extracting(Payload::type).containsExactly("SchedulerDecision", "RollBack", "Finalize");
        assertThat(((RollBack) tail.get(1)).toSeq()).isZero();
        assertThat(tail.get(2)).isEqualTo(new Finalize(0));
    }

    @Test
    void retryableFailureSendsTheSameCommandAgainWithANewEventId() {
        submit("stop", 0);
        answer(DENSE);
        Event step1 = lastCommand();
        int before = sent.size();
        report(1, new JobFailed(1, "out of memory", "trainer-0", true));
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
            report(1, new JobFailed(1, "flaky disk", "trainer-0", true));
        }
        assertThat(job.state()).isEqualTo(JobState.PRUNING);
        report(1, new JobFailed(1, "flaky disk", "trainer-0", true));
        assertThat(job.state()).isEqualTo(JobState.FAILED);
    }

    @Test
    void nonRetryableFailureFailsTheJob() {
        submit("stop", 0);
        int before = sent.size();
        report(0, new JobFailed(0, "recipe names a model file that does not exist", "trainer-0", false));
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
        Job.Outcome o = report(0, new JobFailed(0, "old", "trainer-0", false));
        assertThat(o.disposition()).isEqualTo(Job.Disposition.IGNORED);
        assertThat(job.state()).isEqualTo(JobState.PRUNING);
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
        report(1, new JobResumed(1, 2, "trainer-1"));
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
        assertThat(lastCommand().payload()).isEqualTo(new Finalize(4));
    }

    /** The worker applied the awaited step, then found its checkpoint damaged: that key is spent, so a new attempt. */
    @Test
    void aResumeThatLostTheAwaitedStepSendsItAgainUnderANewAttempt() {
        submit("stop", 0);
        answer(DENSE);
        answer(GOOD);
        assertThat(lastCommand().payload()).isEqualTo(new PruneStep(2, targets.get(1), 50, false, 1));
        int before = sent.size();
        report(1, new JobResumed(1, 1, "trainer-1"));
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
        report(1, new JobResumed(1, 0, "trainer-0"));
        assertThat(sent).hasSize(before);
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
        assertThat(report(5, new ModelPublished("t1", "v1", "/x", "b".repeat(64), 0.8, 0.8)).disposition())
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

    static final class FakeClock extends Clock {
        private Instant now = Instant.parse("2026-11-23T12:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
