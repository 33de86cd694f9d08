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
        "redis://secret@host:6379 | redis://***@host:6379",
        "rediss://user:secret@host | rediss://user:***@host",
        "redis://host:6379/0 | redis://host:6379/0",
    })
    void masksOnlyThePassword(String uri, String expected) {
        assertThat(dev.hopper.topology.UriRedactor.redact(URI.create(uri))).isEqualTo(expected);
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

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bad amqp://user:secret@ho st | bad amqp://user:***@ho st",
        "redis://:secret@h:6379 | redis://:***@h:6379",
        "cannot reach redis://secret@h:1 and amqp://a:b@c/ | cannot reach redis://***@h:1 and amqp://a:***@c/",
        "no uri here | no uri here",
    })
    void masksPasswordsInText(String text, String expected) {
        assertThat(dev.hopper.topology.UriRedactor.redactText(text)).isEqualTo(expected);
    }
}
