package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The codec writes every argument exactly as Lettuce's own UTF-8 codec does, and reads back what it wrote. */
class ExactUtf8CodecTest {

    private static String encoded(RedisCodec<String, String> codec, String s) {
        ByteBuf buf = Unpooled.buffer();
        try {
            new CommandArgs<>(codec).addKey(s).addValue(s).add(s).encode(buf);
            return buf.toString(StandardCharsets.UTF_8);
        } finally {
            buf.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "hopper:lock:order-42", "zoë", "日本語のキー", "emoji 🐇 key", "lone \uD800 surrogate",
            "tail surrogate \uDC00", "cr\r\nlf"})
    void encodesLikeLettucesUtf8Codec(String s) {
        assertThat(encoded(ExactUtf8Codec.INSTANCE, s)).isEqualTo(encoded(StringCodec.UTF8, s));
        assertThat(ExactUtf8Codec.INSTANCE.decodeValue(ExactUtf8Codec.INSTANCE.encodeValue(s)))
                .isEqualTo(StringCodec.UTF8.decodeValue(StringCodec.UTF8.encodeValue(s)));
        ByteBuf direct = Unpooled.buffer();
        try {
            ExactUtf8Codec.INSTANCE.encodeKey(s, direct);
            assertThat(direct.readableBytes()).as("the size told to Lettuce is the size written")
                    .isEqualTo(ExactUtf8Codec.INSTANCE.estimateSize(s));
        } finally {
            direct.release();
        }
    }
}
