package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UrisTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "amqp://guest:guest@localhost:5672/ | amqp://guest:***@localhost:5672/",
        "amqp://user@host/vh | amqp://user@host/vh",
        "amqp://host:5672/ | amqp://host:5672/",
        "amqp://host | amqp://host",
        "amqps://app:s3cret@mq.example.com:5671/prod | amqps://app:***@mq.example.com:5671/prod",
        "amqp://us%40er:p%40ss%3Aw0rd@host/%2F | amqp://us%40er:***@host/%2F",
        "amqp://u:@host/ | amqp://u:***@host/",
        "amqp://u:host@host/ | amqp://u:***@host/",
    })
    void masksOnlyThePassword(String uri, String expected) {
        assertThat(Uris.redact(URI.create(uri))).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "p%40ss%3Aw0rd | p@ss:w0rd",
        "a+b | a+b",
        "%2F | /",
        "plain | plain",
    })
    void decodesOneComponent(String raw, String decoded) {
        assertThat(Uris.decode(raw)).isEqualTo(decoded);
    }
}
