package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RunnerSupportTest {
    /** Beam's message, as PipelineOptionsFactory words it, for a runner that no jar on the class path has. */
    @Test
    void anUnknownRunnerSaysWhichJarHasIt() {
        IllegalArgumentException beams = new IllegalArgumentException(
                "Unknown 'runner' specified 'SparkRunner', supported pipeline runners [DirectRunner]");

        assertThat(RunnerSupport.explainUnknownRunner(beams))
                .hasMessage("Unknown 'runner' specified 'SparkRunner', supported pipeline runners [DirectRunner]."
                        + " FlinkRunner is in pflash-flink.jar and SparkRunner in pflash-spark.jar"
                        + " (runners-flink/target and runners-spark/target after 'mvn package'); pflash.jar has the"
                        + " DirectRunner only")
                .hasCause(beams);
        IllegalArgumentException other = new IllegalArgumentException("--max-new-tokens: not a number");
        assertThat(RunnerSupport.explainUnknownRunner(other)).isSameAs(other);
    }

    @Test
    void theDefaultJarListsNoJvmFlags() {
        assertThat(RunnerSupport.listedJvmFlags()).isEmpty();
        assertThat(RunnerSupport.missingJvmFlags()).isEmpty();
    }

    @Test
    void readsWhetherAFlagHolds() {
        // java.base exports java.lang to everyone but opens it only when told to
        assertThat(RunnerSupport.isInEffect("--add-exports=java.base/java.lang=ALL-UNNAMED")).isTrue();
        assertThat(RunnerSupport.isInEffect("--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED")).isFalse();
        assertThat(RunnerSupport.isInEffect("--add-opens=no.such.module/some.pkg=ALL-UNNAMED")).isTrue();
        // surefire starts the test JVM with the Vector API module
        assertThat(RunnerSupport.isInEffect("--add-modules=jdk.incubator.vector")).isTrue();
        assertThat(RunnerSupport.isInEffect("--add-modules=no.such.module")).isFalse();
        assertThatThrownBy(() -> RunnerSupport.isInEffect("-Xmx4g"))
                .hasMessage("META-INF/pflash/java17-jvm-flags: '-Xmx4g' is not an --add-opens, --add-exports or --add-modules flag");
        assertThatThrownBy(() -> RunnerSupport.isInEffect("--add-opens=java.base/java.lang"))
                .hasMessage("META-INF/pflash/java17-jvm-flags: '--add-opens=java.base/java.lang' is not of the form"
                        + " --add-opens=module/package=ALL-UNNAMED");
    }
}
