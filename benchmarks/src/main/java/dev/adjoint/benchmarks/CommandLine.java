package dev.adjoint.benchmarks;

/**
 * Option values for the command-line programs here (benchmarks/train, the example trainers, the
 * stand-alone benchmarks): every error names the option and the value it got, so `--epochs x`
 * says "--epochs takes a whole number, got 'x'" rather than a NumberFormatException.
 */
public final class CommandLine {
    private CommandLine() {
    }

    /** The value after {@code option}, which sits at {@code args[i - 1]}. */
    public static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    public static int wholeNumber(String[] args, int i, String option) {
        String value = value(args, i, option);
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a whole number, got '" + value + "'");
        }
    }

    public static long longNumber(String[] args, int i, String option) {
        String value = value(args, i, option);
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a whole number, got '" + value + "'");
        }
    }

    public static double number(String[] args, int i, String option) {
        String value = value(args, i, option);
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a number, got '" + value + "'");
        }
    }
}
