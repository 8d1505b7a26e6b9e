package dev.adjoint.benchmarks.examples;

/** Command-line helpers shared by the example programs. */
final class Args {
    private Args() {
    }

    /** The value after option {@code name} at {@code args[i]}, or an error naming the option. */
    static String value(String[] args, int i, String name) {
        if (i >= args.length) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args[i];
    }
}
