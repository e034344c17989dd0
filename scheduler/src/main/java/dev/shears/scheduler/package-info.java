/**
 * The scheduler service: it drives every job through the contract of {@code common/EVENTS.md}.
 *
 * <p>What a user touches: {@link dev.shears.scheduler.SchedulerService} (start one, read its URL,
 * close it), {@link dev.shears.scheduler.SchedulerConfig}, and the job as the API shows it, {@link
 * dev.shears.scheduler.JobSnapshot} with {@link dev.shears.scheduler.JobState}. The command-line
 * tools are in {@code dev.shears.scheduler.cli}.
 *
 * <p>The machinery beside them: {@code Job}, one state machine per job (reports in, commands out)
 * over its state, a {@code JobSnapshot} it replaces at each transition; {@code Engine}, the single
 * thread that owns the jobs, the reports consumer and the transactional producer, and answers each
 * batch of reports in one transaction (commands, state records on the compacted state topic, dead
 * letters, consumed offsets), every record encoded and size-checked before it begins; {@code Api},
 * the HTTP API, on an {@code ExchangePool} that gives each exchange a deadline;
 * {@code SchedulerMetrics}, the Micrometer meters.
 */
package dev.shears.scheduler;
