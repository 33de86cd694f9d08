package dev.hopper.ops.worker;

import static java.util.Objects.requireNonNull;

import dev.hopper.consumer.TaskHandler;
import dev.hopper.topology.HopperException;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Finds user handlers for {@code --handler CLASS} and {@code --discover}: loads a named class with its public
 * no-argument constructor, or every {@link HandlerProvider} listed for {@link ServiceLoader}, from the worker's
 * class path plus the {@code --classpath} entries. Nothing else is reflective. Not thread-safe; used once at start.
 */
final class HandlerLoader {
    private final ClassLoader loader;

    HandlerLoader(ClassLoader loader) {
        this.loader = requireNonNull(loader, "loader");
    }

    /**
     * A loader over {@code entries} (jars or class directories) whose parent is {@code parent}; {@code parent}
     * itself when there are none.
     *
     * @throws HopperException naming an entry that does not exist
     */
    static ClassLoader withClasspath(List<Path> entries, ClassLoader parent) {
        if (entries.isEmpty()) {
            return parent;
        }
        List<URL> urls = new ArrayList<>();
        for (Path p : entries) {
            if (!Files.exists(p)) {
                throw new HopperException("--classpath entry " + p + " does not exist");
            }
            try {
                urls.add(p.toAbsolutePath().toUri().toURL());
            } catch (MalformedURLException e) {
                throw new HopperException("--classpath entry " + p + " is not a usable path: " + e.getMessage(), e);
            }
        }
        return new URLClassLoader("hopper-handlers", urls.toArray(URL[]::new), parent);
    }

    /**
     * Instantiates {@code className}: a {@link HandlerProvider} registers its handlers in {@code registry}; a
     * {@link TaskHandler} becomes the handler for every type, with raw JSON bodies.
     *
     * @return a description for the start-up line
     * @throws HopperException when the class is missing, cannot be instantiated, or is neither
     */
    @SuppressWarnings("unchecked")
    String load(String className, HandlerProvider.Registry registry, Consumer<TaskHandler<byte[]>> defaultHandler) {
        Object instance = instantiate(className);
        if (instance instanceof HandlerProvider p) {
            RecordingRegistry r = new RecordingRegistry(registry);
            p.register(r);
            if (r.types.isEmpty()) {
                throw new HopperException("handler provider " + className + " registered no handlers");
            }
            return className + " (types " + String.join(", ", r.types) + ")";
        }
        if (instance instanceof TaskHandler<?> h) {
            defaultHandler.accept((TaskHandler<byte[]>) h);
            return className + " (every type, raw JSON bodies)";
        }
        throw new HopperException("handler class " + className + " implements neither "
                + HandlerProvider.class.getName() + " nor " + TaskHandler.class.getName());
    }

    /**
     * Registers the handlers of every {@link HandlerProvider} found by {@link ServiceLoader}.
     *
     * @return a description for the start-up line
     * @throws HopperException when none is found or one cannot be loaded
     */
    String discover(HandlerProvider.Registry registry) {
        RecordingRegistry r = new RecordingRegistry(registry);
        List<String> providers = new ArrayList<>();
        try {
            for (HandlerProvider p : ServiceLoader.load(HandlerProvider.class, loader)) {
                p.register(r);
                providers.add(p.getClass().getName());
            }
        } catch (ServiceConfigurationError e) {
            throw new HopperException("cannot load a handler provider: " + e.getMessage(), e);
        }
        if (providers.isEmpty() || r.types.isEmpty()) {
            throw new HopperException("--discover found no handlers: list your HandlerProvider classes in "
                    + "META-INF/services/" + HandlerProvider.class.getName() + " of a jar given with --classpath");
        }
        return String.join(", ", providers) + " (types " + String.join(", ", r.types) + ")";
    }

    private Object instantiate(String className) {
        Class<?> c;
        try {
            c = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new HopperException("handler class " + className + " cannot be loaded (" + e
                    + "); add its jar with --classpath", e);
        }
        try {
            return c.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new HopperException("handler class " + className + " needs a public no-argument constructor", e);
        } catch (InvocationTargetException e) {
            throw new HopperException("handler class " + className + " failed in its constructor: "
                    + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new HopperException("cannot instantiate handler class " + className + ": " + e, e);
        }
    }

    /** Passes registrations on and remembers the types, for the start-up line and the empty check. */
    private static final class RecordingRegistry implements HandlerProvider.Registry {
        private final HandlerProvider.Registry target;
        private final List<String> types = new ArrayList<>();

        RecordingRegistry(HandlerProvider.Registry target) {
            this.target = target;
        }

        @Override
        public <T> HandlerProvider.Registry handler(String type, Class<T> payloadType, TaskHandler<T> handler) {
            target.handler(type, payloadType, handler);
            types.add(type);
            return this;
        }
    }
}
