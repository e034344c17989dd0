package dev.shears.common.events;

/** Carries a {@link Rejection} out of the depths of decoding; never leaves {@link EventCodec}. */
final class Refusal extends Exception {

    final transient Rejection rejection;

    Refusal(Rejection.Reason reason, String field, String message) {
        super(message, null, false, false);
        this.rejection = new Rejection(reason, field, message);
    }
}
