package dev.pflash.pipeline.output;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PercentilesTest {
    @Test
    void nearestRank() {
        List<Double> values = List.of(10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0);

        assertThat(Percentiles.nearestRank(values, 50)).isEqualTo(50.0);
        assertThat(Percentiles.nearestRank(values, 95)).isEqualTo(100.0);
        assertThat(Percentiles.nearestRank(values, 10)).isEqualTo(10.0);
        assertThat(Percentiles.nearestRank(values, 11)).isEqualTo(20.0);
        assertThat(Percentiles.nearestRank(List.of(7.0), 95)).isEqualTo(7.0);
    }

    @Test
    void noValuesGiveNaN() {
        assertThat(Percentiles.nearestRank(List.of(), 50)).isNaN();
    }

    @Test
    void rejectsPercentilesOutsideRange() {
        assertThatThrownBy(() -> Percentiles.nearestRank(List.of(1.0), 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Percentiles.nearestRank(List.of(1.0), 101))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sortedValuesFnMergesAndSorts() {
        Percentiles.SortedValuesFn fn = new Percentiles.SortedValuesFn();
        List<Double> a = fn.addInput(fn.addInput(fn.createAccumulator(), 3.0), 1.0);
        List<Double> b = fn.addInput(fn.createAccumulator(), 2.0);

        assertThat(fn.extractOutput(fn.mergeAccumulators(List.of(a, b)))).containsExactly(1.0, 2.0, 3.0);
    }
}
