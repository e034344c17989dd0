/**
 * The versioned event contract between the scheduler and the workers: the {@link
 * dev.shears.common.events.Event} envelope, its {@link dev.shears.common.events.Payload}s
 * (commands, reports, decisions), their JSON ({@link dev.shears.common.events.EventCodec}), the
 * topics they travel on ({@link dev.shears.common.events.Topics}) and the headers of dead letters
 * ({@link dev.shears.common.events.DeadLetter}). The rules of order and idempotency are in
 * {@code common/EVENTS.md}. No Kafka here: the consumers and producers live in the trainer and the
 * scheduler.
 */
package dev.shears.common.events;
