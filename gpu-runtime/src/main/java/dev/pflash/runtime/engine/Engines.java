package dev.pflash.runtime.engine;

/** Opens engines. Today every engine runs in this JVM ({@link LocalEngine}). */
public final class Engines {
    private Engines() {
    }

    public static Engine open(EngineConfig config) {
        return LocalEngine.open(config);
    }
}
