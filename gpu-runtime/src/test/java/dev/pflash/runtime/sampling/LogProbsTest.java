package dev.pflash.runtime.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import org.junit.jupiter.api.Test;

class LogProbsTest {

    @Test
    void logSoftmaxOfKnownProbabilities() {
        double[] lp = LogProbs.logSoftmax(new float[] {0f, (float) Math.log(3)});
        assertThat(lp[0]).isCloseTo(Math.log(0.25), offset(1e-7));
        assertThat(lp[1]).isCloseTo(Math.log(0.75), offset(1e-7));
    }

    @Test
    void largeLogitsDoNotOverflowAndRowsAreReadInPlace() {
        float[] rows = {5f, 1000f, 1000f, -3f, 7f};
        assertThat(LogProbs.logSumExp(rows, 1, 2)).isCloseTo(1000 + Math.log(2), offset(1e-9));
        assertThat(LogProbs.logProb(rows, 1, 2, 1)).isCloseTo(-Math.log(2), offset(1e-9));
        assertThat(LogProbs.logSoftmax(rows, 3, 2)[1]).isCloseTo(-Math.log1p(Math.exp(-10)), offset(1e-9));
        assertThat(LogProbs.logSumExp(new float[] {Float.NEGATIVE_INFINITY}, 0, 1)).isEqualTo(Double.NEGATIVE_INFINITY);
    }

    @Test
    void rejectsEmptyRowsAndTokensOutsideTheRow() {
        assertThatThrownBy(() -> LogProbs.logSumExp(new float[3], 0, 0)).hasMessage("log-sum-exp of an empty row");
        assertThatThrownBy(() -> LogProbs.logProb(new float[3], 0, 3, 3)).hasMessage("token 3 outside a row of 3 logits");
    }
}
