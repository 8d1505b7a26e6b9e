package dev.adjoint.examples;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * The entry point of the examples: {@code Examples [backends|gradcheck|train-mlp|all]}.
 *
 * <p>This one class is compiled for Java 8 (see the module's pom), so that a JVM older than 21,
 * which cannot load any other class of Adjoint, still runs it and can say what to install instead of
 * failing with an {@code UnsupportedClassVersionError}. Everything else is Java 21 and is reached
 * by reflection only after the check.
 */
public final class Examples {
    private static final int REQUIRED = 21;

    private Examples() {
    }

    public static void main(String[] args) throws Throwable {
        int feature = featureVersion(System.getProperty("java.specification.version"));
        if (feature < REQUIRED) {
            System.err.println("Adjoint needs Java " + REQUIRED + " or newer, and this is Java "
                    + System.getProperty("java.version") + " (" + System.getProperty("java.home") + ").");
            System.err.println("Install a JDK " + REQUIRED + "+ (for example `apt-get install openjdk-21-jdk`, or "
                    + "Temurin 21 from adoptium.net) and run with it: set JAVA_HOME to it, or put its bin/ first on "
                    + "the PATH. Maven may stay on an older JDK if the build selects a JDK " + REQUIRED
                    + "+ toolchain, as this project's does.");
            System.exit(1);
        }
        Method main = Class.forName("dev.adjoint.examples.Tour").getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** 8 for "1.8", 17 for "17", 0 when unreadable. */
    static int featureVersion(String specification) {
        if (specification == null) {
            return 0;
        }
        String v = specification.startsWith("1.") ? specification.substring(2) : specification;
        int end = 0;
        while (end < v.length() && Character.isDigit(v.charAt(end))) {
            end++;
        }
        return end == 0 ? 0 : Integer.parseInt(v.substring(0, end));
    }
}
