package dev.hopper.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The ops module's package layout, read from the compiled classes with the JDK's {@code jdeps}: the command
 * groups depend on {@code cli}, {@code cli} depends on none of them, and no two packages depend on each other in
 * a cycle.
 */
class PackageLayoutTest {
    private static final Pattern EDGE = Pattern.compile("^\\s*(dev\\.hopper\\.ops[\\w.]*)\\s+->\\s+(dev\\.hopper\\.ops[\\w.]*)\\s");

    static Map<String, Set<String>> packageGraph() throws URISyntaxException {
        Path classes = Path.of(HopperCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("no jdeps"));
        StringWriter out = new StringWriter();
        int code = jdeps.run(new PrintWriter(out), new PrintWriter(out), "-verbose:package", "-filter:none",
                "-e", "dev\\.hopper\\.ops\\..*", classes.toString());
        assertThat(code).as(out.toString()).isZero();
        Map<String, Set<String>> graph = new TreeMap<>();
        for (String line : out.toString().split("\\R")) {
            Matcher m = EDGE.matcher(line);
            if (m.find() && !m.group(1).equals(m.group(2))) {
                graph.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
            }
        }
        return graph;
    }

    @Test
    void packagesFormNoCycle() throws Exception {
        Map<String, Set<String>> graph = packageGraph();
        assertThat(graph).as("jdeps found the groups' dependencies on cli").containsKey("dev.hopper.ops.dlq");
        List<String> cycle = findCycle(graph);
        assertThat(cycle).as("a package cycle").isEmpty();
    }

    @Test
    void cliDependsOnNoCommandGroupAndEachGroupHasItsOwnPackage() throws Exception {
        Map<String, Set<String>> graph = packageGraph();
        assertThat(graph.getOrDefault("dev.hopper.ops.cli", Set.of())).isEmpty();
        Set<String> groupPackages = new HashSet<>();
        for (CommandLine sub : HopperCommand.commandLine().getSubcommands().values()) {
            Object group = sub.getCommand();
            if (group instanceof CommandGroup) {
                assertThat(groupPackages.add(group.getClass().getPackageName()))
                        .as("%s shares its package with another group", group.getClass()).isTrue();
            }
        }
        assertThat(groupPackages).contains("dev.hopper.ops.dlq", "dev.hopper.ops.publish", "dev.hopper.ops.topology",
                "dev.hopper.ops.revision", "dev.hopper.ops.stats", "dev.hopper.ops.worker", "dev.hopper.ops.bench",
                "dev.hopper.ops.demo");
    }

    /** A cycle as the list of packages on it, or an empty list. */
    static List<String> findCycle(Map<String, Set<String>> graph) {
        Set<String> done = new HashSet<>();
        for (String start : graph.keySet()) {
            List<String> path = new ArrayList<>();
            if (visit(start, graph, done, path)) {
                return path;
            }
        }
        return List.of();
    }

    private static boolean visit(String node, Map<String, Set<String>> graph, Set<String> done, List<String> path) {
        if (path.contains(node)) {
            path.add(node);
            return true;
        }
        if (done.contains(node)) {
            return false;
        }
        path.add(node);
        for (String next : graph.getOrDefault(node, Set.of())) {
            if (visit(next, graph, done, path)) {
                return true;
            }
        }
        path.remove(path.size() - 1);
        done.add(node);
        return false;
    }

    @Test
    void findCycleSeesOne() {
        assertThat(findCycle(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a")))).contains("a", "b", "c");
        assertThat(findCycle(Map.of("a", Set.of("b"), "b", Set.of("c")))).isEmpty();
    }
}
