package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.TaskJson;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What {@link DeliveryReader} makes of a body, per kind of handler (typed or raw {@code byte[]}). */
class DeliveryReaderTest {
    record Job(int n) {}

    private static final AMQP.BasicProperties PROPS = EnvelopeCodec.properties(new TaskEnvelope("id-1", "job", null,
            null, 0, Instant.parse("2026-12-02T10:00:00Z"), null, 0, 0, new byte[] {'{', '}'},
            dev.hopper.topology.Lineage.NONE));

    static Stream<String> bodies() {
        return Stream.of("{\"n\":1}", "{ \"spaced\" : [1, 2] }", "42", "\"text\"", "null", "[]", "  {}  ",
                "{nope", "{\"n\":1", "{\"n\":1} {\"n\":2}", "{\"n\":1} x", "[1,2,]", "{\"a\":1,\"a\":2}",
                "{\"s\":\"\\u00e9\\n\"}", "{\"s\":\"bad \\q escape\"}", "\"unterminated", "tru", "01",
                "{\"deep\":" + "[".repeat(300) + "]".repeat(300) + "}", "   ", "\u0000", "{\"n\":1}\n");
    }

    /** A raw handler accepts exactly the bodies a tree read accepts (what it did before it stopped building one). */
    @ParameterizedTest
    @MethodSource("bodies")
    void rawHandlerAcceptsWhatATreeReadAccepts(String text) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        ObjectMapper mapper = TaskJson.newMapper();
        boolean treeAccepts;
        try {
            mapper.readerFor(byte[].class).readTree(body);
            treeAccepts = true;
        } catch (Exception e) {
            treeAccepts = false;
        }
        Reading r = reader(mapper).read(PROPS, body);
        if (treeAccepts) {
            assertThat(r).isInstanceOf(Reading.Readable.class);
            assertThat(((Reading.Readable) r).payload()).isSameAs(body); // the bytes as they arrived
        } else {
            assertThat(r).isInstanceOf(Reading.BadPayload.class);
        }
    }

    @Test
    void rawHandlerBuildsNoTree() throws Exception {
        AtomicInteger nodes = new AtomicInteger();
        ObjectMapper mapper = TaskJson.newMapper();
        mapper.setNodeFactory(new JsonNodeFactory() {
            @Override
            public ObjectNode objectNode() {
                nodes.incrementAndGet();
                return super.objectNode();
            }
        });
        mapper.readerFor(byte[].class).readTree("{\"n\":1}".getBytes(StandardCharsets.UTF_8));
        assertThat(nodes).as("the counting factory sees a tree read").hasValue(1);

        Reading r = reader(mapper).read(PROPS, "{\"n\":1,\"o\":{\"p\":[{}]}}".getBytes(StandardCharsets.UTF_8));
        assertThat(r).isInstanceOf(Reading.Readable.class);
        assertThat(nodes).hasValue(1);
    }

    @Test
    void typedHandlerStillGetsItsPayloadOrBadPayload() {
        ObjectMapper mapper = TaskJson.newMapper();
        RegisteredHandler<Job> typed = new RegisteredHandler<>("job", Job.class, mapper.readerFor(Job.class),
                (p, ctx) -> { });
        DeliveryReader reader = new DeliveryReader(1024, Map.of("job", typed), null);
        for (String ok : List.of("{\"n\":7}", "{\"n\":7,\"extra\":1}")) {
            Reading r = reader.read(PROPS, ok.getBytes(StandardCharsets.UTF_8));
            assertThat(r).isInstanceOf(Reading.Readable.class);
            assertThat(((Reading.Readable) r).payload()).isEqualTo(new Job(7));
        }
        for (String bad : List.of("{nope", "{\"n\":7} {\"n\":8}", "{\"n\":\"x\"}")) {
            Reading r = reader.read(PROPS, bad.getBytes(StandardCharsets.UTF_8));
            assertThat(r).as(bad).isInstanceOf(Reading.BadPayload.class);
            assertThat(((Reading.BadPayload) r).payloadType()).isEqualTo("Job");
        }
    }

    private static DeliveryReader reader(ObjectMapper mapper) {
        RegisteredHandler<byte[]> raw = new RegisteredHandler<>("*", byte[].class, mapper.readerFor(byte[].class),
                (p, ctx) -> { });
        return new DeliveryReader(1024, Map.of(), raw);
    }
}
