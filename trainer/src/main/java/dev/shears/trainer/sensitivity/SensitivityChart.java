package dev.shears.trainer.sensitivity;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** A sensitivity report as a line chart (JFreeChart, PNG): accuracy against sparsity, a line per unit. */
public final class SensitivityChart {
    private SensitivityChart() {}

    /** Writes the chart of {@code report} to {@code file} as a PNG of {@code width} x {@code height} pixels. */
    public static void writePng(SensitivityReport report, Path file, int width, int height) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (SensitivityReport.Curve c : report.curves()) {
            XYSeries series = new XYSeries(c.unit(), false);
            series.add(0, 100 * report.denseAccuracy());
            for (int i = 0; i < report.sparsities().size(); i++) {
                series.add(100 * report.sparsities().get(i), 100 * c.accuracy().get(i));
            }
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Sensitivity of " + report.job()
                + ": each unit pruned alone", "sparsity of the unit (%)", "accuracy (%)", data,
                PlotOrientation.VERTICAL, report.curves().size() <= 40, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        ValueMarker dense = new ValueMarker(100 * report.denseAccuracy(), Color.DARK_GRAY, new BasicStroke(1f,
                BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[]{4f, 4f}, 0f));
        dense.setLabel("dense");
        plot.addRangeMarker(dense);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, width, height);
    }
}
