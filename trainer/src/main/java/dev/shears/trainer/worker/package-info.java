/**
 * The trainer worker: {@link dev.shears.trainer.worker.Worker} takes jobs' commands from Kafka and
 * applies them (dense training, pruning steps, extra fine-tuning, roll-backs, publication) to the
 * jobs' directories in a work directory shared by all workers, following the worker's table of
 * cases in {@code common/EVENTS.md}; {@code dev.shears.trainer.cli.WorkerCommand} runs one from
 * the command line.
 *
 * <p>Inside: {@code JobRunner} decides and applies one command without Kafka (the table, the
 * sessions kept open per job, the reports); {@code Worker} is the consumer loop around it, with
 * {@code PartitionQueue} (one partition's commands in order, Kafka-free), {@code ReportSender} (reports
 * and dead letters, acknowledged) and {@link dev.shears.trainer.worker.WorkerConfig} (its settings). A
 * job's files are named by {@link dev.shears.trainer.checkpoint.JobDirectory}.
 */
package dev.shears.trainer.worker;
