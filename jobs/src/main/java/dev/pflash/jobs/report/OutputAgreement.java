package dev.pflash.jobs.report;

import dev.pflash.schemas.BenchmarkRow;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How far two greedy configurations wrote the same outputs for the same documents, since PFlash
 * is lossy: the share of documents whose first {@code n} output tokens are identical, and the mean
 * token overlap (twice the size of the two outputs' multiset intersection over their summed
 * lengths: 1 for the same tokens in any order, 0 for none in common).
 *
 * @param documents documents both configurations summarized
 */
public record OutputAgreement(String baseline, String config, int n, int documents, double exactFirstN,
        double tokenOverlap) {

    public static OutputAgreement of(String baseline, List<BenchmarkRow> baseRows, String config,
            List<BenchmarkRow> rows, int n) {
        Map<String, List<Integer>> base = new HashMap<>();
        for (BenchmarkRow r : baseRows) {
            if (r.getOk()) {
                base.put(r.getDocId(), r.getOutputTokenIds());
            }
        }
        int documents = 0;
        int exact = 0;
        double overlap = 0;
        for (BenchmarkRow r : rows) {
            List<Integer> a = r.getOk() ? base.get(r.getDocId()) : null;
            if (a == null) {
                continue;
            }
            List<Integer> b = r.getOutputTokenIds();
            documents++;
            if (a.subList(0, Math.min(n, a.size())).equals(b.subList(0, Math.min(n, b.size())))) {
                exact++;
            }
            overlap += overlap(a, b);
        }
        return new OutputAgreement(baseline, config, n, documents, documents == 0 ? Double.NaN : (double) exact / documents,
                documents == 0 ? Double.NaN : overlap / documents);
    }

    static double overlap(List<Integer> a, List<Integer> b) {
        if (a.isEmpty() && b.isEmpty()) {
            return 1;
        }
        Map<Integer, Integer> counts = new HashMap<>();
        a.forEach(t -> counts.merge(t, 1, Integer::sum));
        int common = 0;
        for (int t : b) {
            Integer left = counts.get(t);
            if (left != null && left > 0) {
                common++;
                counts.put(t, left - 1);
            }
        }
        return 2.0 * common / (a.size() + b.size());
    }
}
