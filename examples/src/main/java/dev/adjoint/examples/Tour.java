package dev.adjoint.examples;

import java.util.List;

/** Runs the examples by name, or all of them in turn. */
public final class Tour {
    private Tour() {
    }

    public static void main(String[] args) {
        String which = args.length == 0 ? "all" : args[0];
        switch (which) {
            case "backends" -> ChooseBackend.main(new String[0]);
            case "gradcheck" -> GradCheckExample.main(new String[0]);
            case "train-mlp" -> TrainMlp.main(new String[0]);
            case "all" -> {
                for (String name : List.of("backends", "gradcheck", "train-mlp")) {
                    System.out.println("== " + name);
                    main(new String[] {name});
                    System.out.println();
                }
            }
            default -> {
                System.err.println("examples: no example '" + which + "'; there are backends, gradcheck, train-mlp, all");
                System.exit(2);
            }
        }
    }
}
