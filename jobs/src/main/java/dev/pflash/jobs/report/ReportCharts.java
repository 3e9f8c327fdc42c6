package dev.pflash.jobs.report;

import dev.pflash.schemas.BenchmarkRow;
import java.awt.Color;
import java.awt.Rectangle;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * The report's plots, drawn by JFreeChart into SVG (JFreeSVG) so that the HTML can hold them
 * inline and open from disk with nothing else: TTFT against prompt tokens, time by stage,
 * documents done over wall time, keep ratio and TTFT speedup against body length, and output
 * agreement. Each plot is named for the file the Markdown report links.
 */
public final class ReportCharts {
    static final int WIDTH = 760;
    static final int HEIGHT = 420;
    /** Stages of a document's time, in pipeline order, with the column each comes from. */
    static final Map<String, ToDoubleFunction<BenchmarkRow>> STAGES = stages();

    /** A plot: a file name (without extension), a caption, and its SVG element. */
    public record Plot(String name, String caption, String svg) {
    }

    private ReportCharts() {
    }

    private static Map<String, ToDoubleFunction<BenchmarkRow>> stages() {
        Map<String, ToDoubleFunction<BenchmarkRow>> stages = new LinkedHashMap<>();
        stages.put("extract", BenchmarkRow::getExtractMs);
        stages.put("tokenize", BenchmarkRow::getTokenizeMs);
        stages.put("prefix lookup", BenchmarkRow::getPrefixLookupMs);
        stages.put("draft", BenchmarkRow::getDraftMs);
        stages.put("select", BenchmarkRow::getSelectMs);
        stages.put("target prefill", BenchmarkRow::getTargetPrefillMs);
        stages.put("decode", BenchmarkRow::getDecodeMs);
        return stages;
    }

    /** Every plot for these configurations (rows by configuration, in report order) and agreements. */
    public static List<Plot> all(Map<String, List<BenchmarkRow>> byConfig, List<OutputAgreement> agreements) {
        List<Plot> plots = new java.util.ArrayList<>();
        plots.add(ttftAgainstPromptTokens(byConfig));
        plots.add(timeByStage(byConfig));
        plots.add(documentsOverWallTime(byConfig));
        plots.add(keepRatioAgainstBodyLength(byConfig));
        plots.add(speedupAgainstBodyLength(byConfig));
        if (!agreements.isEmpty()) {
            plots.add(agreement(agreements));
        }
        return plots;
    }

    static Plot ttftAgainstPromptTokens(Map<String, List<BenchmarkRow>> byConfig) {
        XYSeriesCollection data = new XYSeriesCollection();
        byConfig.forEach((config, rows) -> {
            XYSeries series = new XYSeries(config, false, true);
            rows.stream().filter(r -> r.getOk() && r.getPromptTokens() > 0 && r.getTtftMs() > 0)
                    .forEach(r -> series.add(r.getPromptTokens(), r.getTtftMs()));
            data.addSeries(series);
        });
        JFreeChart chart = ChartFactory.createScatterPlot("Time to first token against prompt length",
                "prompt tokens (log)", "TTFT ms (log)", data, PlotOrientation.VERTICAL, true, false, false);
        logAxes(chart.getXYPlot(), "prompt tokens (log)", "TTFT ms (log)");
        return plot("ttft-vs-prompt-tokens", "TTFT against prompt tokens, one point per document", chart);
    }

    static Plot timeByStage(Map<String, List<BenchmarkRow>> byConfig) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        byConfig.forEach((config, rows) -> STAGES.forEach((stage, column) ->
                data.addValue(rows.stream().filter(BenchmarkRow::getOk).mapToDouble(column).sum() / 1000, stage,
                        config)));
        JFreeChart chart = ChartFactory.createStackedBarChart("Time by stage, summed over documents", "configuration",
                "seconds", data, PlotOrientation.VERTICAL, true, false, false);
        return plot("time-by-stage", "Time by stage per configuration (seconds, summed over documents)", chart);
    }

    static Plot documentsOverWallTime(Map<String, List<BenchmarkRow>> byConfig) {
        XYSeriesCollection data = new XYSeriesCollection();
        byConfig.forEach((config, rows) -> {
            XYSeries series = new XYSeries(config, true, true);
            series.add(0, 0);
            List<BenchmarkRow> done = rows.stream().sorted(Comparator.comparingDouble(BenchmarkRow::getFinishedS))
                    .toList();
            for (int i = 0; i < done.size(); i++) {
                series.add(done.get(i).getFinishedS(), i + 1);
            }
            data.addSeries(series);
        });
        JFreeChart chart = ChartFactory.createXYLineChart("Documents done over the run's wall time",
                "seconds since the run started", "documents done", data, PlotOrientation.VERTICAL, true, false, false);
        return plot("documents-over-wall-time", "Throughput: documents done against wall time (the slope is documents/s)",
                chart);
    }

    static Plot keepRatioAgainstBodyLength(Map<String, List<BenchmarkRow>> byConfig) {
        XYSeriesCollection data = new XYSeriesCollection();
        byConfig.forEach((config, rows) -> {
            XYSeries series = new XYSeries(config, false, true);
            rows.stream().filter(r -> r.getOk() && r.getBodyTokens() > 0)
                    .forEach(r -> series.add(r.getBodyTokens(), r.getKeepRatio()));
            data.addSeries(series);
        });
        JFreeChart chart = ChartFactory.createScatterPlot("Keep ratio against body length", "body tokens (log)",
                "kept / body tokens", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setDomainAxis(logAxis("body tokens (log)"));
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 1.05);
        return plot("keep-ratio-vs-body-length", "Share of the body the target prefilled, per document", chart);
    }

    static Plot speedupAgainstBodyLength(Map<String, List<BenchmarkRow>> byConfig) {
        XYSeriesCollection data = new XYSeriesCollection();
        List<String> configs = List.copyOf(byConfig.keySet());
        Map<String, Double> baseline = new HashMap<>();
        byConfig.get(configs.get(0)).stream().filter(r -> r.getOk() && r.getTtftMs() > 0)
                .forEach(r -> baseline.put(r.getDocId(), r.getTtftMs()));
        for (String config : configs.subList(1, configs.size())) {
            XYSeries series = new XYSeries(config, false, true);
            for (BenchmarkRow r : byConfig.get(config)) {
                Double base = r.getOk() && r.getTtftMs() > 0 && r.getBodyTokens() > 0 ? baseline.get(r.getDocId()) : null;
                if (base != null) {
                    series.add(r.getBodyTokens(), base / r.getTtftMs());
                }
            }
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createScatterPlot("TTFT speedup against body length (vs " + configs.get(0) + ")",
                "body tokens (log)", "TTFT of " + configs.get(0) + " / TTFT", data, PlotOrientation.VERTICAL, true, false,
                false);
        chart.getXYPlot().setDomainAxis(logAxis("body tokens (log)"));
        return plot("ttft-speedup-vs-body-length", "TTFT speedup over " + configs.get(0) + ", per document", chart);
    }

    static Plot agreement(List<OutputAgreement> agreements) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (OutputAgreement a : agreements) {
            String pair = a.config() + " vs " + a.baseline();
            data.addValue(a.exactFirstN(), "first " + a.n() + " tokens identical", pair);
            data.addValue(a.tokenOverlap(), "token overlap", pair);
        }
        JFreeChart chart = ChartFactory.createBarChart("Output agreement of greedy configurations", "pair",
                "share of documents / mean overlap", data, PlotOrientation.VERTICAL, true, false, false);
        chart.getCategoryPlot().getRangeAxis().setRange(0, 1.05);
        return plot("output-agreement", "How far greedy outputs agree with the first configuration's", chart);
    }

    private static void logAxes(XYPlot plot, String x, String y) {
        plot.setDomainAxis(logAxis(x));
        plot.setRangeAxis(logAxis(y));
    }

    private static LogAxis logAxis(String label) {
        LogAxis axis = new LogAxis(label);
        axis.setBase(10);
        axis.setSmallestValue(1e-3);
        // Whole powers of ten, written as numbers rather than exponents.
        axis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        axis.setNumberFormatOverride(new DecimalFormat("#,##0.###", DecimalFormatSymbols.getInstance(Locale.ROOT)));
        return axis;
    }

    private static Plot plot(String name, String caption, JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        SVGGraphics2D g2 = new SVGGraphics2D(WIDTH, HEIGHT);
        // Several plots share one HTML page: their clip paths and gradients need distinct ids.
        g2.setDefsKeyPrefix(name + "-");
        chart.draw(g2, new Rectangle(0, 0, WIDTH, HEIGHT));
        return new Plot(name, caption, g2.getSVGElement(name));
    }
}
