package dev.hopper.ops;

import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.DeclareReport;
import dev.hopper.topology.Topology;
import dev.hopper.topology.VerificationReport;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code hopper topology declare|verify}. */
@Command(name = "topology", description = "Declare or verify the exchanges and queues of hopper.yml.",
        subcommands = {TopologyCommand.Declare.class, TopologyCommand.Verify.class})
final class TopologyCommand {
    @ParentCommand
    HopperCommand root;

    @Command(name = "declare", description = "Create missing exchanges and queues; report (never delete) ones that "
            + "differ.%nExample: hopper topology declare --config hopper.yml")
    static final class Declare implements Callable<Integer> {
        @ParentCommand
        TopologyCommand parent;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            HopperCommand root = parent.root;
            Topology topology = new Topology(root.loadConfig());
            PrintWriter out = spec.commandLine().getOut();
            try (BrokerConnection c = BrokerConnection.open(root.brokerConfig("hopper-topology"))) {
                DeclareReport r = topology.declare(c.amqp());
                for (String o : r.created()) {
                    out.println(root.json ? "{\"object\":\"" + o.replace("'", "") + "\",\"action\":\"created\"}"
                            : "created  " + o);
                }
                for (String o : r.existing()) {
                    out.println(root.json ? "{\"object\":\"" + o.replace("'", "") + "\",\"action\":\"exists\"}"
                            : "exists   " + o);
                }
                out.flush();
            }
            return 0;
        }
    }

    @Command(name = "verify", description = "Check the broker against hopper.yml without changing anything; exit 1 "
            + "on any difference.%nExample: hopper topology verify --config hopper.yml")
    static final class Verify implements Callable<Integer> {
        @ParentCommand
        TopologyCommand parent;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            HopperCommand root = parent.root;
            Topology topology = new Topology(root.loadConfig());
            PrintWriter out = spec.commandLine().getOut();
            try (BrokerConnection c = BrokerConnection.open(root.brokerConfig("hopper-topology"))) {
                VerificationReport r = topology.verify(c.amqp());
                for (VerificationReport.Problem p : r.problems()) {
                    out.println(p.describe());
                }
                out.println(r.ok() ? "ok: " + r.checked() + " objects match" : r.problems().size() + " difference(s)");
                out.flush();
                return r.ok() ? 0 : 1;
            }
        }
    }
}
