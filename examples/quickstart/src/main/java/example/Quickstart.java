package example;

import dev.hopper.consumer.Worker;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.TaskPublisher;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import java.util.List;

public final class Quickstart {
    /** A task's payload: plain data, sent as JSON. */
    public record Resize(int imageId, int width) {}

    public static void main(String[] args) throws Exception {
        String queue = System.getenv().getOrDefault("QUEUE", "images");
        BrokerConfig broker = BrokerConfig.fromEnvironment(System.getenv(), "quickstart"); // RABBITMQ_URI
        HopperConfig config = HopperConfig.of(List.of(QueueSpec.builder(queue).build()));   // or HopperConfig.load(path)

        // Worker: late ack, retries through the delay tiers, dead letters with reasons.
        Worker worker = Worker.builder()
                .broker(broker)
                .config(config)
                .handler("resize", Resize.class, (task, ctx) -> {
                    System.out.println("resizing image " + task.imageId());
                    Thread.sleep(2_000); // the work; a handler fails by throwing
                    System.out.println("resized image " + task.imageId());
                })
                .build();
        worker.registerShutdownHook(); // SIGTERM / Ctrl-C: stop taking tasks, finish running ones, close, exit 0
        worker.start();                // declares the queues first (Worker.Builder.declareTopology, default true)

        // Producer: publish() returns once the broker has the task on disk.
        try (TaskPublisher publisher = TaskPublisher.builder().broker(broker).build()) {
            for (int id = 1; id <= 3; id++) {
                publisher.publish(publisher.newTask().queue(queue).type("resize").payload(new Resize(id, 800)).build());
            }
        }
        worker.awaitTermination(); // until the shutdown hook has closed it
    }
}
