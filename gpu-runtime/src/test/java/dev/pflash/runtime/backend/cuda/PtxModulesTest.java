package dev.pflash.runtime.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The committed PTX modules: present, loadable as text, and the driver they need. */
class PtxModulesTest {
    @AfterEach
    void clearOverride() {
        System.clearProperty(PtxModules.DIR_PROPERTY);
    }

    @Test
    void everyModuleIsCommittedForCompute80WithItsKernels() {
        for (String name : PtxModules.NAMES) {
            String ptx = PtxModules.source(name);
            assertThat(ptx).as(name).contains(".target sm_80").contains(".address_size 64");
        }
        assertThat(PtxModules.source("matmul")).contains(".entry gemm_q(").contains(".entry matvec_q(")
                .contains("mma.sync");
        assertThat(PtxModules.source("attention")).contains(".entry flash_attention_d128(")
                .contains(".entry attention_split(");
        assertThat(PtxModules.source("pflash")).contains(".entry sparse_flash_attention_d128(")
                .contains(".entry tail_probability_max(");
    }

    @Test
    void imagesAreNulTerminatedForTheDriver() {
        byte[] image = PtxModules.image("norm_rope");
        assertThat(image[image.length - 1]).isZero();
        assertThat(image.length - 1).isEqualTo(PtxModules.source("norm_rope").length());
    }

    @Test
    void theCommittedPtxNeedsACuda11Driver() {
        PtxModules.Requirement r = PtxModules.requirement();
        // build-ptx.sh writes the lowest ISA the kernels need, 7.0, which drivers of CUDA 11.0 and newer accept.
        assertThat(r.isaText()).isEqualTo("7.0");
        assertThat(r.minDriverCudaVersion()).isEqualTo(11000);
        assertThat(PtxModules.describe(r)).isEqualTo("PTX ISA 7.0 (CUDA 11.0 driver or newer)");
    }

    @Test
    void isaVersionsMapToTheCudaReleaseThatIntroducedThem() {
        assertThat(PtxModules.minDriverCudaVersion(7, 0)).isEqualTo(11000);
        assertThat(PtxModules.minDriverCudaVersion(7, 8)).isEqualTo(11080);
        assertThat(PtxModules.minDriverCudaVersion(8, 0)).isEqualTo(12000);
        assertThat(PtxModules.minDriverCudaVersion(8, 4)).isEqualTo(12040);
        assertThat(PtxModules.minDriverCudaVersion(8, 5)).isEqualTo(12050);
        assertThat(PtxModules.minDriverCudaVersion(8, 7)).isEqualTo(12080);
        assertThat(PtxModules.minDriverCudaVersion(8, 8)).isEqualTo(12090);
        assertThat(PtxModules.minDriverCudaVersion(9, 0)).isEqualTo(13000);
    }

    @Test
    void aFolderOfPtxReplacesTheCommittedModules(@TempDir Path dir) throws Exception {
        for (String name : PtxModules.NAMES) {
            Files.writeString(dir.resolve(name + ".ptx"), "//\n.version 8.4\n.target sm_80\n");
        }
        System.setProperty(PtxModules.DIR_PROPERTY, dir.toString());
        assertThat(PtxModules.source("matmul")).isEqualTo("//\n.version 8.4\n.target sm_80\n");
        assertThat(PtxModules.requirement().minDriverCudaVersion()).isEqualTo(12040);

        Files.delete(dir.resolve("pflash.ptx"));
        assertThatThrownBy(() -> PtxModules.source("pflash")).isInstanceOf(UncheckedIOException.class)
                .hasMessageStartingWith("cannot read PTX module " + dir.resolve("pflash.ptx"));
    }
}
