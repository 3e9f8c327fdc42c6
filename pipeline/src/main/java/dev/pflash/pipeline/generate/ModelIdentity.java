package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.EngineInfo;
import java.io.Serializable;

/** Which models and backend produced a summary, as recorded on its row. */
public record ModelIdentity(String targetModel, String targetSha256, String drafterModel, String drafterSha256,
        String backend, boolean demoModels) implements Serializable {
    public static ModelIdentity of(EngineInfo info) {
        return new ModelIdentity(info.targetModel(), info.targetSha256(), info.drafterModel(), info.drafterSha256(),
                info.backend(), info.demoModels());
    }
}
