package dev.hopper.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hopper as a user meets it: the README's library example ({@code examples/quickstart}, which the README shows
 * verbatim) built as a project of its own that depends only on Hopper's BOM, hopper-consumer and logback, then run
 * against the test broker, including SIGTERM while a handler runs.
 *
 * <p>The project cannot see this build's jars through the shared {@code ~/.m2} (nothing is ever installed there),
 * so the test writes them into a private local repository in a temporary directory, as {@code mvn install} would
 * lay them out, and lets Maven take everything else from {@code ~/.m2} through a {@code file://} mirror: no
 * network, nothing written outside the temporary directory.
 */
@ExtendWith(TestQueues.class)
@Timeout(600)
class QuickstartIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Path EXAMPLE = ROOT.resolve("examples/quickstart");
    static final Path SOURCE = EXAMPLE.resolve("src/main/java/example/Quickstart.java");

    @TempDir
    Path tmp;
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        processes.forEach(Process::destroyForcibly);
    }

    @Test
    void theReadmeShowsTheExampleVerbatim() throws Exception {
        String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
        assertThat(block(readme, "java", "examples/quickstart/src/main/java/example/Quickstart.java"))
                .isEqualTo(Files.readString(SOURCE, StandardCharsets.UTF_8));
        String pom = Files.readString(EXAMPLE.resolve("pom.xml"), StandardCharsets.UTF_8);
        assertThat(pom).contains(block(readme, "xml", "examples/quickstart/pom.xml"));
        assertThat(pom).contains("<version>" + version() + "</version>");
    }

    @Test
    void theExampleBuildsFromTheBomAndRunsAndStopsGracefullyOnSigterm(TestBroker broker, TestQueues queues)
            throws Exception {
        Path project = tmp.resolve("quickstart");
        copyTree(EXAMPLE, project);
        Path repo = tmp.resolve("repo");
        installReactorArtifacts(repo);
        Path settings = Files.writeString(tmp.resolve("settings.xml"), settings());
        Path cpFile = tmp.resolve("classpath.txt");
        Result build = run(project, Duration.ofMinutes(8), Map.of(), "mvn", "-B", "-ntp", "-q", "-s",
                settings.toString(), "-Dmaven.repo.local=" + repo, "compile", "dependency:build-classpath",
                "-Dmdep.outputFile=" + cpFile);
        assertThat(build.exit()).as("building the example: %s", build).isZero();

        // What the user's project resolved: slf4j-api 2.x once, one Netty version, Hopper's jars from this build.
        List<String> jars = List.of(Files.readString(cpFile).trim().split(File.pathSeparator));
        assertThat(jars).filteredOn(j -> j.contains("slf4j-api")).singleElement().asString().contains("/2.");
        assertThat(nettyVersions(jars)).hasSize(1);
        String consumerJar = "hopper-consumer-" + version() + ".jar";
        assertThat(jars).anyMatch(j -> j.endsWith(consumerJar));

        String queue = queues.name("quickstart");
        queues.track(QueueSpec.builder(queue).build());
        Path out = tmp.resolve("run.out");
        Process run = start(project, jars, broker, queue, out);
        processes.add(run);

        // The tasks run one after another (2 s each); SIGTERM while one runs.
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            assertThat(run.isAlive()).as("quickstart; output:%n%s", read(out)).isTrue();
            return read(out).contains("resizing image ");
        });
        String before = read(out);
        long started = count(before, "resizing image ");
        run.destroy(); // SIGTERM
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).as("exits after SIGTERM; output:%n%s", read(out)).isTrue();
        String after = read(out);
        assertThat(run.exitValue()).as("exit status after SIGTERM; output:%n%s", after).isZero();
        // Every task that started also finished: the running handler was let finish.
        assertThat(count(after, "resized image ")).as(after).isEqualTo(count(after, "resizing image "))
                .isGreaterThanOrEqualTo(started);
        // Logging works (slf4j 2 finds logback) and nothing complains about a missing binding.
        assertThat(after).doesNotContain("SLF4J(W)").doesNotContain("StaticLoggerBinder")
                .doesNotContain("NOP").contains("INFO");
        // Nothing lost: the tasks that did not run are still in the queue.
        try (Connection c = broker.connect("quickstart-it")) {
            try (Channel ch = c.createChannel()) {
                assertThat(ch.queueDeclarePassive(queue).getMessageCount())
                        .isEqualTo(3 - count(after, "resized image "));
                assertThat(ch.queueDeclarePassive(queue + ".dead").getMessageCount()).isZero();
            }
        }
    }

    private Process start(Path project, List<String> jars, TestBroker broker, String queue, Path out)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(javaBin(), "-Xmx256m", "-cp",
                project.resolve("target/classes") + File.pathSeparator + String.join(File.pathSeparator, jars),
                "example.Quickstart");
        pb.environment().put("RABBITMQ_URI", broker.uri().toString());
        pb.environment().put("QUEUE", queue);
        return pb.redirectErrorStream(true).redirectOutput(out.toFile()).directory(project.toFile()).start();
    }

    /** The fenced block of {@code lang} right after the README line {@code <!-- file: path -->}. */
    static String block(String readme, String lang, String path) {
        Matcher m = Pattern.compile("<!-- file: " + Pattern.quote(path) + " -->\\R```" + lang + "\\R(.*?)```",
                Pattern.DOTALL).matcher(readme);
        assertThat(m.find()).as("README has a ```%s block marked <!-- file: %s -->", lang, path).isTrue();
        return m.group(1);
    }

    /** Hopper's version, from the consumer jar this build made. */
    static String version() throws IOException {
        try (Stream<Path> s = Files.list(ROOT.resolve("consumer/target"))) {
            return s.map(p -> p.getFileName().toString())
                    .map(n -> n.matches("hopper-consumer-(.+?)\\.jar") && !n.endsWith("-sources.jar")
                            && !n.endsWith("-javadoc.jar") ? n.substring("hopper-consumer-".length(), n.length() - 4)
                            : null)
                    .filter(java.util.Objects::nonNull).findFirst()
                    .orElseThrow(() -> new AssertionError("no consumer/target/hopper-consumer-*.jar: run mvn verify"));
        }
    }

    /** Lays out this build's poms and jars as {@code mvn install} would, in {@code repo} only. */
    static void installReactorArtifacts(Path repo) throws IOException {
        String v = version();
        install(repo, "hopper-bom", v, ROOT.resolve("bom/pom.xml"), null);
        install(repo, "hopper-parent", v, ROOT.resolve("pom.xml"), null);
        for (String module : List.of("topology", "publisher", "consumer")) {
            Path jar = ROOT.resolve(module + "/target/hopper-" + module + "-" + v + ".jar");
            assertThat(jar).as("built by this reactor").exists();
            install(repo, "hopper-" + module, v, ROOT.resolve(module + "/pom.xml"), jar);
        }
    }

    private static void install(Path repo, String artifact, String version, Path pom, Path jar) throws IOException {
        Path dir = repo.resolve("dev/hopper/" + artifact + "/" + version);
        Files.createDirectories(dir);
        Files.copy(pom, dir.resolve(artifact + "-" + version + ".pom"), StandardCopyOption.REPLACE_EXISTING);
        if (jar != null) {
            Files.copy(jar, dir.resolve(artifact + "-" + version + ".jar"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Everything else comes from the shared ~/.m2, read-only, through a file:// mirror. */
    static String settings() {
        Path m2 = Path.of(System.getProperty("user.home"), ".m2", "repository");
        return "<settings><mirrors><mirror><id>local-cache</id><mirrorOf>*</mirrorOf><url>" + m2.toUri()
                + "</url></mirror></mirrors></settings>\n";
    }

    static TreeSet<String> nettyVersions(List<String> jars) {
        TreeSet<String> versions = new TreeSet<>();
        Pattern netty = Pattern.compile("/io/netty/[^/]+/([^/]+)/");
        for (String j : jars) {
            Matcher m = netty.matcher(j.replace(File.separatorChar, '/'));
            if (m.find()) {
                versions.add(m.group(1));
            }
        }
        return versions;
    }

    record Result(int exit, String output) {}

    static Result run(Path dir, Duration max, Map<String, String> env, String... cmd) throws Exception {
        Path log = Files.createTempFile(dir.getParent(), "run", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(max.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish within " + max + ":\n" + read(log));
        }
        return new Result(p.exitValue(), read(log));
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path rel = from.relativize(p);
                if (rel.startsWith("target")) {
                    continue;
                }
                Path dest = to.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }

    static long count(String text, String what) {
        return text.lines().filter(l -> l.contains(what)).count();
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
