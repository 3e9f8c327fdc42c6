package dev.pflash.pipeline.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.pipeline.generate.WindowPlan.TokenRange;
import java.util.List;
import org.junit.jupiter.api.Test;

class WindowPlanTest {
    @Test
    void aPromptFitsWhenItLeavesRoomForTheSummary() {
        assertThat(WindowPlan.fits(900, 100, 1000)).isTrue();
        assertThat(WindowPlan.fits(901, 100, 1000)).isFalse();
    }

    @Test
    void contextCapAppliesOnlyWhenSmallerThanTheModelWindow() {
        assertThat(WindowPlan.contextWindow(4096, 0)).isEqualTo(4096);
        assertThat(WindowPlan.contextWindow(4096, 512)).isEqualTo(512);
        assertThat(WindowPlan.contextWindow(4096, 8192)).isEqualTo(4096);
    }

    @Test
    void splitsIntoNearlyEqualWindowsThatEachFit() {
        // room per window: 1000 - 100 - 50 = 850; 2000 tokens need 3 windows of at most 667
        List<TokenRange> windows = WindowPlan.split(2000, 50, 100, 1000);

        assertThat(windows).containsExactly(new TokenRange(0, 667), new TokenRange(667, 1334),
                new TokenRange(1334, 2000));
    }

    @Test
    void bodyOfExactlyTheRoomIsOneWindow() {
        assertThat(WindowPlan.split(850, 50, 100, 1000)).containsExactly(new TokenRange(0, 850));
        assertThat(WindowPlan.split(851, 50, 100, 1000)).containsExactly(new TokenRange(0, 426),
                new TokenRange(426, 851));
    }

    @Test
    void refusesWhenTheTemplateLeavesNoRoomForText() {
        assertThatThrownBy(() -> WindowPlan.split(5000, 900, 100, 1010))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the prompt template takes 900 tokens (chat framing included) and --max-new-tokens=100"
                        + " leaves room for 10 tokens of document text in the 1010-token context window;"
                        + " at least 16 are needed: shorten the template or lower --max-new-tokens");
    }
}
