package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * Keeps a runner jar's two copies of its Java 17 flags equal: the list in
 * {@value RunnerSupport#JVM_FLAGS_RESOURCE} (what the tests' JVM gets and what the job checks)
 * and the {@code Add-Opens} / {@code Add-Exports} manifest entries of the runner's pom (what
 * {@code java -jar} applies), which the module's filtered test resource
 * {@code java17-manifest.properties} holds.
 */
public final class ManifestFlagsCheck {
    private static final String VECTOR_MODULE = "--add-modules=jdk.incubator.vector";

    private ManifestFlagsCheck() {
    }

    public static void assertManifestAppliesTheListedFlags() throws IOException {
        Properties manifest = new Properties();
        try (InputStream in = ManifestFlagsCheck.class.getClassLoader()
                .getResourceAsStream("java17-manifest.properties")) {
            assertThat(in).as("java17-manifest.properties on the test class path").isNotNull();
            manifest.load(in);
        }
        List<String> fromManifest = new ArrayList<>();
        for (String kind : List.of("exports", "opens")) {
            Arrays.stream(manifest.getProperty(kind).strip().split("\\s+")).filter(s -> !s.isEmpty())
                    .forEach(target -> fromManifest.add("--add-" + kind + "=" + target + "=ALL-UNNAMED"));
        }

        // A manifest cannot add modules: the Vector API module is in the list for 'java @file' and the tests only.
        assertThat(RunnerSupport.listedJvmFlags()).contains(VECTOR_MODULE);
        assertThat(RunnerSupport.listedJvmFlags()).filteredOn(flag -> !flag.equals(VECTOR_MODULE))
                .isNotEmpty().containsExactlyInAnyOrderElementsOf(fromManifest);
        assertThat(RunnerSupport.isInEffect(VECTOR_MODULE)).as("the test JVM resolved the Vector API module").isTrue();
        assertThat(RunnerSupport.missingJvmFlags()).as("flags the test JVM was started without").isEmpty();
    }
}
