package dev.adjoint.spi;

/** Whether a backend can run in this JVM, and if not, what the user would do about it. */
public record Availability(boolean available, String reason) {
    public static Availability ok() {
        return new Availability(true, "available");
    }

    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }
}
