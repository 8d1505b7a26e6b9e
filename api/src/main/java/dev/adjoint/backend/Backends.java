package dev.adjoint.backend;

import dev.adjoint.BackendUnavailableException;
import dev.adjoint.spi.Availability;
import dev.adjoint.spi.Backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds backends on the class path ({@link ServiceLoader}) and picks one. The default is, in order:
 * the system property {@value #PROPERTY}, the environment variable {@value #ENV}, and otherwise the
 * available backend with the highest priority.
 */
public final class Backends {
    public static final String PROPERTY = "adjoint.backend";
    public static final String ENV = "ADJOINT_BACKEND";

    /** One discovered backend and whether it can run here. */
    public record BackendInfo(String name, int priority, boolean available, String reason, Backend backend) {
        @Override
        public String toString() {
            return name + " (priority " + priority + "): " + (available ? "available" : "unavailable: " + reason);
        }
    }

    private Backends() {
    }

    // Discovery happens once per class loader; backends are stateless singletons.
    private static final class Registry {
        static final List<Entry> ALL = discover();
    }

    /**
     * A discovered backend whose availability is asked for only when needed: checking it may load a
     * native library (nd4j loads libnd4j and OpenBLAS and starts their threads), which a program
     * that picks another backend should not pay for at start-up.
     */
    private static final class Entry {
        final String name;
        final int priority;
        final Backend backend;
        private Availability availability;

        Entry(String name, int priority, Backend backend, Availability known) {
            this.name = name;
            this.priority = priority;
            this.backend = backend;
            this.availability = known;
        }

        synchronized Availability availability() {
            if (availability == null) {
                try {
                    availability = backend.availability();
                } catch (RuntimeException | LinkageError e) {
                    availability = Availability.unavailable(e.toString());
                }
            }
            return availability;
        }

        /** The availability if it has been checked already, else {@code null}; checks nothing. */
        synchronized Availability knownAvailability() {
            return availability;
        }

        BackendInfo info() {
            Availability a = availability();
            return new BackendInfo(name, priority, a.available(), a.reason(), backend);
        }
    }

    /**
     * The default once chosen. Not a class-initialisation holder: a bad adjoint.backend setting must
     * fail as a BackendUnavailableException on every call, not once as an ExceptionInInitializerError
     * and then as NoClassDefFoundError for the rest of the JVM; and it must not break list() and get().
     */
    private static volatile Backend chosenDefault;

    /** Every backend found on the class path, best first, each saying whether it is available and why not. */
    public static List<BackendInfo> list() {
        List<BackendInfo> infos = new ArrayList<>();
        for (Entry entry : Registry.ALL) {
            infos.add(entry.info());
        }
        return List.copyOf(infos);
    }

    /** The backend named {@code name}; fails with the reason when it is unknown or unavailable. */
    public static Backend get(String name) {
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        for (Entry entry : Registry.ALL) {
            if (entry.name.equals(wanted)) {
                Availability a = entry.availability();
                if (!a.available()) {
                    throw new BackendUnavailableException("backend '" + wanted + "' is unavailable: " + a.reason());
                }
                return entry.backend;
            }
        }
        throw new BackendUnavailableException("no backend named '" + name + "'; found: " + describe());
    }

    /** The backend used by {@code Tensor.zeros(...)} and the other creation methods without a backend. */
    public static Backend defaultBackend() {
        Backend chosen = chosenDefault;
        if (chosen == null) {
            synchronized (Backends.class) {
                chosen = chosenDefault;
                if (chosen == null) {
                    // Throws, leaving nothing cached, when the setting names no usable backend.
                    chosen = chooseDefault();
                    chosenDefault = chosen;
                }
            }
        }
        return chosen;
    }

    /**
     * A one-line summary of every backend, for error messages and logs. It checks availability only
     * as far as choosing the default does (the backend {@value #PROPERTY} or {@value #ENV} asks for,
     * otherwise each in priority order until one is available), so describing the backends loads
     * none that the program would not use, such as nd4j's native libraries when simd is chosen; a
     * backend not checked yet is listed as such. {@link #list()} checks every backend.
     */
    public static String describe() {
        List<String> parts = new ArrayList<>();
        String requested = requestedName();
        boolean defaultFound = false;
        for (Entry entry : Registry.ALL) {
            boolean defaultWouldCheck = requested != null ? entry.name.equals(requested) : !defaultFound;
            Availability a = defaultWouldCheck ? entry.availability() : entry.knownAvailability();
            if (a == null) {
                parts.add(entry.name + " (priority " + entry.priority + "): not checked yet (it is when chosen)");
                continue;
            }
            parts.add(new BackendInfo(entry.name, entry.priority, a.available(), a.reason(), entry.backend).toString());
            defaultFound |= requested == null && a.available();
        }
        return parts.isEmpty() ? "none (add an engine module such as adjoint-engine-scalar to the class path)"
                : String.join("; ", parts);
    }

    /** Providers whose class fails to load, at most, before discovery stops looking (a guard against a loop). */
    private static final int MAX_LOAD_FAILURES = 64;

    /** The backend adjoint.backend or ADJOINT_BACKEND asks for, lower-cased, or {@code null}. */
    private static String requestedName() {
        String requested = System.getProperty(PROPERTY);
        if (requested == null || requested.isBlank()) {
            requested = System.getenv(ENV);
        }
        return requested == null || requested.isBlank() ? null : requested.trim().toLowerCase(Locale.ROOT);
    }

    private static List<Entry> discover() {
        List<Entry> found = new ArrayList<>();
        ServiceLoader<Backend> loader = ServiceLoader.load(Backend.class, Backends.class.getClassLoader());
        Iterator<ServiceLoader.Provider<Backend>> it = loader.stream().iterator();
        int loadFailures = 0;
        while (true) {
            ServiceLoader.Provider<Backend> provider;
            try {
                if (!it.hasNext()) {
                    break;
                }
                provider = it.next();
            } catch (ServiceConfigurationError | LinkageError e) {
                // The provider class itself did not load: an engine jar on the class path without a
                // library it is compiled against (adjoint-engine-nd4j without nd4j-api). ServiceLoader
                // has moved past it, so the other backends are still found; this one is reported.
                found.add(new Entry("(failed to load)", Integer.MIN_VALUE, null,
                        Availability.unavailable("a backend class failed to load: " + e)));
                if (++loadFailures >= MAX_LOAD_FAILURES) {
                    break;
                }
                continue;
            }
            try {
                Backend b = provider.get();
                found.add(new Entry(b.name(), b.priority(), b, null));
            } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
                // A backend whose class cannot even load (missing native library, missing module) is
                // reported, not fatal: the others still work.
                String name = provider.type().getSimpleName();
                found.add(new Entry(name.toLowerCase(Locale.ROOT), Integer.MIN_VALUE, null,
                        Availability.unavailable("failed to load: " + e)));
            }
        }
        found.sort(Comparator.comparingInt((Entry e) -> e.priority).reversed());
        return List.copyOf(found);
    }

    private static Backend chooseDefault() {
        String requested = System.getProperty(PROPERTY);
        String source = "system property " + PROPERTY;
        if (requested == null || requested.isBlank()) {
            requested = System.getenv(ENV);
            source = "environment variable " + ENV;
        }
        if (requested != null && !requested.isBlank()) {
            try {
                return get(requested);
            } catch (BackendUnavailableException e) {
                throw new BackendUnavailableException(source + " asks for backend '" + requested + "', but "
                        + e.getMessage());
            }
        }
        // Best first, asking each for its availability only until one is available.
        List<String> passedOver = new ArrayList<>();
        for (Entry entry : Registry.ALL) {
            Availability a = entry.availability();
            if (a.available()) {
                warnIfPassedOver(passedOver, entry);
                return entry.backend;
            }
            passedOver.add("'" + entry.name + "' (priority " + entry.priority + ") is unavailable: " + a.reason());
        }
        throw new BackendUnavailableException("no available backend: " + describe());
    }

    /**
     * A program that has a faster engine on its class path but runs on a slower one, because the
     * faster one cannot start here (simd without {@code --add-modules jdk.incubator.vector}, nd4j
     * without its natives), is told so once, with the reason and what fixes it, rather than finding
     * out from its run time. Naming the backend ({@value #PROPERTY}) chooses it without a word.
     */
    private static void warnIfPassedOver(List<String> passedOver, Entry chosen) {
        if (passedOver.isEmpty()) {
            return;
        }
        System.getLogger(Backends.class.getName()).log(System.Logger.Level.WARNING,
                "Adjoint: using backend '" + chosen.name + "' because " + String.join("; ", passedOver)
                        + ". Set -D" + PROPERTY + "=" + chosen.name + " to choose it without this warning.");
    }
}
