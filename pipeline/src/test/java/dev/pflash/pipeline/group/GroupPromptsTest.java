package dev.pflash.pipeline.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.pipeline.prompt.DocumentMeta;
import dev.pflash.pipeline.prompt.DocumentPrompt;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Rule;
import org.junit.Test;

/** Runs on Beam's TestPipeline, whose JUnit 4 rule checks that the pipeline ran. */
public class GroupPromptsTest {
    private static final int[] PREFIX_A = {1, 2, 3};
    private static final int[] PREFIX_B = {1, 2, 4};

    @Rule
    public final transient TestPipeline pipeline = TestPipeline.create();

    @Test
    public void batchesShareAPrefixAndALengthBucketAndStayWithinTheTokenBudget() {
        List<DocumentPrompt> prompts = List.of(
                prompt("a1", PREFIX_A, 97), prompt("a2", PREFIX_A, 97), prompt("a3", PREFIX_A, 97),
                prompt("a-long1", PREFIX_A, 297), prompt("a-long2", PREFIX_A, 297),
                prompt("b1", PREFIX_B, 97));

        PCollection<KV<String, Iterable<DocumentPrompt>>> batches =
                pipeline.apply(Create.of(prompts)).apply(new GroupPrompts(250));

        String a = BatchKey.prefixHash(PREFIX_A);
        String b = BatchKey.prefixHash(PREFIX_B);
        PAssert.that(batches).satisfies(all -> {
            Map<String, List<Integer>> sizesByKey = new TreeMap<>();
            for (KV<String, Iterable<DocumentPrompt>> batch : all) {
                List<DocumentPrompt> members = new ArrayList<>();
                batch.getValue().forEach(members::add);
                members.forEach(p -> assertThat(BatchKey.of(p)).isEqualTo(batch.getKey()));
                int tokens = members.stream().mapToInt(DocumentPrompt::length).sum();
                assertThat(members.size() == 1 || tokens <= 250).as("batch %s", batch).isTrue();
                sizesByKey.computeIfAbsent(batch.getKey(), k -> new ArrayList<>()).add(members.size());
            }
            sizesByKey.values().forEach(sizes -> sizes.sort(null));
            assertThat(sizesByKey).isEqualTo(Map.of(
                    a + "/256", List.of(1, 2),
                    a + "/512", List.of(1, 1),
                    b + "/256", List.of(1)));
            return null;
        });

        pipeline.run().waitUntilFinish();
    }

    @Test
    public void budgetMustBePositive() {
        assertThatThrownBy(() -> new GroupPrompts(0)).hasMessage("--batch-tokens must be at least 1, got 0");
    }

    private static DocumentPrompt prompt(String id, int[] prefix, int bodyTokens) {
        DocumentMeta meta = new DocumentMeta(id, "file:///" + id, "00", "text/plain", null, null, null, null, 1, 1,
                false, 0);
        return new DocumentPrompt(meta, prefix, new int[bodyTokens], new int[0], 0);
    }
}
