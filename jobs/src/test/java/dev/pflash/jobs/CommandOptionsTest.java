package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import org.apache.beam.sdk.options.Description;
import org.junit.jupiter.api.Test;

class CommandOptionsTest {

    @Test
    void kebabCaseOptionsReachTheirBeamProperties() {
        GenerateOptions o = CommandOptions.parse(new String[] {"--max-new-tokens=7", "--topP=0.5", "--prompt=a-b --c",
                "--chat=true"}, GenerateOptions.class);
        assertThat(o.getMaxNewTokens()).isEqualTo(7);
        assertThat(o.getTopP()).isEqualTo(0.5f);
        assertThat(o.getPrompt()).isEqualTo("a-b --c");
        assertThat(o.getChat()).isTrue();
        assertThatThrownBy(() -> CommandOptions.parse(new String[] {"--max-new-tokenz=7"}, GenerateOptions.class))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxNewTokenz");
    }

    @Test
    void helpListsEveryOptionOfTheInterfaceInKebabCaseWithItsDefault() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CommandOptions.printHelp(new PrintStream(bytes, true, StandardCharsets.UTF_8), SummarizeOptions.class);
        String help = bytes.toString(StandardCharsets.UTF_8);

        int described = 0;
        for (Method m : SummarizeOptions.class.getMethods()) {
            if (m.getDeclaringClass().getName().startsWith("dev.pflash.") && m.isAnnotationPresent(Description.class)) {
                described++;
                String prop = m.getName().replaceFirst("^(get|is)", "");
                String name = CommandOptions.kebab(Character.toLowerCase(prop.charAt(0)) + prop.substring(1));
                assertThat(help).contains("--" + name + "=");
            }
        }
        assertThat(described).isGreaterThan(15);
        assertThat(help).contains("--max-new-tokens=<int>  (default: ");
    }
}
