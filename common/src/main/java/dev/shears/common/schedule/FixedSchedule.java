package dev.shears.common.schedule;

import java.util.ArrayList;
import java.util.List;

/** A schedule given by its list of targets, checked once. */
record FixedSchedule(List<SchedulePoint> points) implements Schedule {

    FixedSchedule {
        points = List.copyOf(points);
        if (points.isEmpty()) {
            throw new IllegalArgumentException("a schedule needs at least one step (fix: give one target or more)");
        }
        for (int i = 0; i < points.size(); i++) {
            SchedulePoint p = points.get(i);
            if (p.step() != i + 1) {
                throw new IllegalArgumentException("schedule step " + p.step() + " is at position " + (i + 1)
                        + ": steps must be numbered 1..n in order");
            }
            if (i > 0 && p.targetSparsity() < points.get(i - 1).targetSparsity()) {
                throw new IllegalArgumentException("schedule step " + p.step() + " targets " + p.targetSparsity()
                        + ", below step " + i + "'s " + points.get(i - 1).targetSparsity()
                        + ": targets must not decrease (pruning is never undone)");
            }
        }
    }

    FixedSchedule(List<Double> targets, boolean rewind) {
        this(points(targets, rewind));
    }

    private static List<SchedulePoint> points(List<Double> targets, boolean rewind) {
        List<SchedulePoint> points = new ArrayList<>(targets.size());
        for (int i = 0; i < targets.size(); i++) {
            points.add(new SchedulePoint(i + 1, targets.get(i), rewind));
        }
        return points;
    }
}
