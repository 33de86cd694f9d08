package dev.hopper.ops.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.consumer.TaskHandler;
import dev.hopper.topology.HopperException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HandlerLoaderTest {
    private final Map<String, Class<?>> registered = new LinkedHashMap<>();
    private final List<TaskHandler<byte[]>> defaults = new ArrayList<>();
    private final HandlerProvider.Registry registry = new HandlerProvider.Registry() {
        @Override
        public <T> HandlerProvider.Registry handler(String type, Class<T> payloadType, TaskHandler<T> handler) {
            registered.put(type, payloadType);
            return this;
        }
    };
    private final HandlerLoader loader = new HandlerLoader(getClass().getClassLoader());

    @Test
    void aNamedProviderRegistersItsTypedHandlers() {
        String text = loader.load(SampleProvider.class.getName(), registry, defaults::add);
        assertThat(registered).containsExactly(Map.entry("sample.greet", SampleProvider.Greeting.class));
        assertThat(defaults).isEmpty();
        assertThat(text).contains("sample.greet");
    }

    @Test
    void aNamedTaskHandlerBecomesTheHandlerForEveryType() {
        loader.load(SampleRawHandler.class.getName(), registry, defaults::add);
        assertThat(defaults).singleElement().isInstanceOf(SampleRawHandler.class);
        assertThat(registered).isEmpty();
    }

    @Test
    void discoveryFindsProvidersListedForServiceLoader() {
        String text = loader.discover(registry);
        assertThat(registered).containsKey("sample.greet");
        assertThat(text).contains(SampleProvider.class.getName());
    }

    @Test
    void clearErrorsForMissingOrUnsuitableClasses() {
        assertThatThrownBy(() -> loader.load("com.example.Missing", registry, defaults::add))
                .isInstanceOf(HopperException.class).hasMessageContaining("add its jar with --classpath");
        assertThatThrownBy(() -> loader.load(String.class.getName(), registry, defaults::add))
                .isInstanceOf(HopperException.class).hasMessageContaining("implements neither");
        assertThatThrownBy(() -> loader.load(TaskInfo.class.getName(), registry, defaults::add))
                .isInstanceOf(HopperException.class).hasMessageContaining("public no-argument constructor");
    }

    @Test
    void discoveryWithNothingListedSaysWhereToListProviders() {
        HandlerLoader empty = new HandlerLoader(ClassLoader.getPlatformClassLoader());
        assertThatThrownBy(() -> empty.discover(registry)).isInstanceOf(HopperException.class)
                .hasMessageContaining("META-INF/services/dev.hopper.ops.worker.HandlerProvider");
    }

    @Test
    void classpathEntriesMustExist() {
        assertThatThrownBy(() -> HandlerLoader.withClasspath(List.of(Path.of("no/such.jar")),
                getClass().getClassLoader())).isInstanceOf(HopperException.class).hasMessageContaining("no/such.jar");
        assertThat(HandlerLoader.withClasspath(List.of(), getClass().getClassLoader()))
                .isSameAs(getClass().getClassLoader());
    }
}
