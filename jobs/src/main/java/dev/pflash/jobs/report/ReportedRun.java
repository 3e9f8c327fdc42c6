package dev.pflash.jobs.report;

/**
 * One configuration of a report: its name, its place (ratios are against the first), the options
 * that set it apart, and its run.
 */
public record ReportedRun(String name, int index, String options, RunDirectory directory) {
}
