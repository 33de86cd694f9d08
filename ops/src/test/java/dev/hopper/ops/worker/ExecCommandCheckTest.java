package dev.hopper.ops.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecCommandCheckTest {
    @TempDir
    Path dir;

    @Test
    void aMissingScriptIsNamed() {
        assertThat(ExecCommandCheck.problem("./missing.sh --width 800", dir)).hasValueSatisfying(p ->
                assertThat(p).contains("./missing.sh does not exist"));
        assertThat(ExecCommandCheck.problem("LANG=C ./missing.sh", dir)).isPresent();
    }

    @Test
    void aScriptThatIsNotExecutableIsNamed() throws Exception {
        Path script = Files.writeString(dir.resolve("resize.sh"), "#!/bin/sh\nexit 0\n");
        assertThat(ExecCommandCheck.problem("./resize.sh", dir)).hasValueSatisfying(p ->
                assertThat(p).contains("not an executable file"));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(ExecCommandCheck.problem("./resize.sh", dir)).isEmpty();
        assertThat(ExecCommandCheck.problem(script + " --x", dir)).isEmpty();
    }

    @Test
    void programsOnThePathAndShellBuiltinsPass() {
        assertThat(ExecCommandCheck.problem("cat > /dev/null", dir)).isEmpty();
        assertThat(ExecCommandCheck.problem("echo hi; exit 75", dir)).isEmpty();
        assertThat(ExecCommandCheck.problem("hopper-no-such-program-42 --flag", dir)).hasValueSatisfying(p ->
                assertThat(p).contains("command not found: hopper-no-such-program-42"));
    }

    @Test
    void computedCommandsAreNotJudged() {
        assertThat(ExecCommandCheck.problem("$CMD arg", dir)).isEmpty();
        assertThat(ExecCommandCheck.problem("'./quoted script.sh'", dir)).isEmpty();
        assertThat(ExecCommandCheck.program("A=1 B=2 ./x.sh y")).isEqualTo("./x.sh");
    }
}
