package dev.hopper.ops.topology;

import dev.hopper.ops.cli.Converters;
import dev.hopper.ops.cli.ExitCodes;
import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.Output;
import dev.hopper.ops.cli.CommandGroup;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.DeclareReport;
import dev.hopper.topology.Topology;
import dev.hopper.topology.VerificationReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hopper topology declare|verify}. */
@Command(mixinStandardHelpOptions = true, name = "topology", description = "Declare or verify the exchanges and queues of hopper.yml.",
        footerHeading = "%nExample:%n", footer = "  hopper topology verify --config hopper.yml",
        subcommands = {TopologyCommand.Declare.class, TopologyCommand.Verify.class})
public final class TopologyCommand implements CommandGroup {

    @Command(mixinStandardHelpOptions = true, name = "declare", description = "Create missing exchanges and queues; report (never delete or change) "
            + "ones that differ. Without --config, --queue declares one queue with default tiers.",
            footerHeading = "%nExample:%n", footer = "  hopper topology declare --config hopper.yml")
    static final class Declare implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--queue", paramLabel = "QUEUE", converter = Converters.WorkQueueConverter.class,
                description = "Only this queue (with defaults when there is no --config).")
        @Nullable String queue;

        @Override
        public Integer call() {
            GlobalOptions root = GlobalOptions.of(spec);
            Topology topology = new Topology(GlobalOptions.of(spec).configFor(queue));
            try (BrokerConnection c = BrokerConnection.open(root.brokerConfig("hopper-topology"))) {
                DeclareReport r = topology.declare(c.amqp());
                List<Map<String, ?>> rows = new ArrayList<>();
                r.created().forEach(o -> rows.add(row(o, "created")));
                r.existing().forEach(o -> rows.add(row(o, "exists")));
                Output out = GlobalOptions.of(spec).output();
                out.table(List.of("object", "action"), rows);
                out.result(r.created().size() + " created, " + r.existing().size() + " already there",
                        Map.of("created", r.created().size(), "existing", r.existing().size()));
            }
            return ExitCodes.OK;
        }

        private static Map<String, ?> row(String object, String action) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("object", object);
            m.put("action", action);
            return m;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "verify", description = "Check the broker against hopper.yml without changing anything; exit 1 "
            + "and print each difference when there is one.",
            footerHeading = "%nExample:%n", footer = "  hopper topology verify --config hopper.yml")
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--queue", paramLabel = "QUEUE", converter = Converters.WorkQueueConverter.class,
                description = "Only this queue (with defaults when there is no --config).")
        @Nullable String queue;

        @Override
        public Integer call() {
            GlobalOptions root = GlobalOptions.of(spec);
            Topology topology = new Topology(GlobalOptions.of(spec).configFor(queue));
            try (BrokerConnection c = BrokerConnection.open(root.brokerConfig("hopper-topology"))) {
                VerificationReport r = topology.verify(c.amqp());
                Output out = GlobalOptions.of(spec).output();
                for (VerificationReport.Problem p : r.problems()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("object", p.object());
                    m.put("argument", p.argument());
                    m.put("expected", p.expected());
                    m.put("actual", p.actual());
                    m.put("problem", p.describe());
                    out.result(p.describe(), m);
                }
                Map<String, Object> summary = new LinkedHashMap<>();
                summary.put("ok", r.ok());
                summary.put("checked", r.checked());
                summary.put("differences", r.problems().size());
                out.result(r.ok() ? "ok: " + r.checked() + " objects match"
                        : r.problems().size() + " difference(s) in " + r.checked() + " objects", summary);
                return r.ok() ? ExitCodes.OK : ExitCodes.FAILURE;
            }
        }
    }
}
