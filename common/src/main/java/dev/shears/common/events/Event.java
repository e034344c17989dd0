package dev.shears.common.events;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * The envelope of every message between the scheduler and the workers. JSON, with
 * {@link EventCodec}:
 *
 * <pre>{@code
 * {"type":"PruneStep","version":5,"eventId":"0b6f3c9e-…","jobId":"lenet5-fmnist-90","seq":3,
 *  "time":"2026-11-23T12:00:00Z","payload":{"step":3,"targetSparsity":0.5,…}}
 * }</pre>
 *
 * <p>The compact constructor checks every field and how {@code seq} agrees with the payload (the
 * seq rules of {@code common/EVENTS.md}): {@code JobStarted} has seq 0, a {@code PruneStep} its
 * step, {@code Finalize} a seq past its last step, {@code RollBack} a seq at least its
 * {@code toSeq}, {@code JobResumed} its restored seq, and a payload that carries a seq the
 * envelope's. An {@code Event} is therefore always valid.
 *
 * @param type the payload's type, {@link Payload#type()}
 * @param version the contract version the event follows: {@link #VERSION} for every event this
 *     code creates
 * @param eventId a UUID in canonical lower-case form, unique per event (a redelivery keeps it; a
 *     command sent again gets a new one); for tracing, not for deduplication
 * @param jobId the job, {@code [a-z0-9][a-z0-9._-]{0,63}}; the Kafka record key
 * @param seq the position in the job: 0 for {@code JobStarted}, the step for a {@code PruneStep},
 *     steps + 1 for {@code Finalize}; at least 0
 * @param time when the event was created, UTC
 * @param payload what the event says
 */
public record Event(String type, int version, String eventId, String jobId, long seq, Instant time,
        Payload payload) {

    /**
     * The version of the contract this code writes, and the newest it reads: 2 since {@link JobFailed} names the
     * command it answers, {@link JobResumed} the keys it restored and lost, and {@link Finalize} the attempt it
     * publishes; 3 since {@link ModelPublished} says what the model costs; 4 since {@link StepCompleted}'s accuracy
     * is the validation split's and its test accuracy is reported beside it; 5 since {@link ModelPublished} gives
     * the latencies of both models compiled for inference.
     */
    public static final int VERSION = 5;

    /** @throws IllegalArgumentException naming the field, the value and the fix when a field is invalid */
    public Event {
        Check c = new Check("Event");
        c.present("payload", payload);
        c.present("type", type);
        if (!type.equals(payload.type())) {
            throw c.fail("type", type, "does not match the payload, a " + payload.type()
                    + " (fix: use Event.of, which takes the type from the payload)");
        }
        if (version < 1 || version > VERSION) {
            throw c.fail("version", version, "is not a version this code writes or reads: must be in [1, "
                    + VERSION + "]" + " (fix: use Event.VERSION)");
        }
        c.uuid("eventId", eventId);
        checkJobId(c, jobId);
        checkSeq(c, seq);
        c.present("time", time);
        checkSeqAgainstPayload(c, seq, payload);
    }

    /**
     * A new event at the current {@link #VERSION}, with a random event id and the current time.
     *
     * @throws IllegalArgumentException when {@code jobId} or {@code seq} is invalid for the payload
     */
    public static Event of(String jobId, long seq, Payload payload) {
        return of(jobId, seq, Instant.now(), payload);
    }

    /**
     * A new event at the current {@link #VERSION}, with a random event id, created at {@code time}.
     *
     * @throws IllegalArgumentException when {@code jobId} or {@code seq} is invalid for the payload
     */
    public static Event of(String jobId, long seq, Instant time, Payload payload) {
        Objects.requireNonNull(payload, "payload");
        return new Event(payload.type(), VERSION, UUID.randomUUID().toString(), jobId, seq, time, payload);
    }

    static void checkJobId(Check c, String jobId) {
        c.name("jobId", jobId, "lenet5-fmnist-90");
    }

    static void checkSeq(Check c, long seq) {
        if (seq < 0) {
            throw c.fail("seq", seq, "is negative: a seq is at least 0 (0 is JobStarted, then the step number)");
        }
    }

    private static void checkSeqAgainstPayload(Check c, long seq, Payload payload) {
        String rule = null;
        if (payload instanceof JobStarted) {
            rule = seq == 0 ? null : "must be 0 for JobStarted";
        } else if (payload instanceof PruneStep p) {
            rule = seq == p.step() ? null : "must equal the PruneStep's step, " + p.step();
        } else if (payload instanceof Finalize f) {
            rule = seq > f.lastStep() ? null
                    : "must be past the Finalize's lastStep " + f.lastStep()
                            + " (fix: send Finalize with seq = the schedule's steps + 1)";
        } else if (payload instanceof RollBack r) {
            rule = seq >= r.toSeq() ? null
                    : "must be at least the RollBack's toSeq " + r.toSeq()
                            + " (fix: send RollBack with the seq of the newest step it undoes)";
        } else if (payload instanceof JobResumed r) {
            rule = seq == r.restoredSeq() ? null : "must equal the JobResumed's restoredSeq, " + r.restoredSeq();
        } else if (payload instanceof StepCompleted s) {
            rule = sameSeq(seq, s.seq(), "StepCompleted");
        } else if (payload instanceof JobProgress p) {
            rule = sameSeq(seq, p.seq(), "JobProgress");
        } else if (payload instanceof JobFailed f) {
            rule = sameSeq(seq, f.seq(), "JobFailed");
        } else if (payload instanceof SchedulerDecision d) {
            rule = sameSeq(seq, d.seq(), "SchedulerDecision");
        }
        if (rule != null) {
            throw c.fail("seq", seq, "does not agree with the payload: " + rule);
        }
    }

    private static String sameSeq(long seq, long payloadSeq, String type) {
        return seq == payloadSeq ? null : "must equal the " + type + "'s seq, " + payloadSeq;
    }
}
