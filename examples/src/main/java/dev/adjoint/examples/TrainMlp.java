package dev.adjoint.examples;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.ReLU;
import dev.adjoint.nn.Sequential;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.spi.Backend;

/**
 * Training an MLP with the nn API, as in PyTorch: three overlapping Gaussian clusters in the plane, a
 * {@code Sequential(Linear(2, 32), ReLU(), Linear(32, 3))}, cross-entropy, Adam; on the default
 * backend, reproducible from its seeds. Prints the loss as it falls and the final accuracy.
 */
public final class TrainMlp {
    private static final int CLASSES = 3;
    private static final int PER_CLASS = 100;

    private TrainMlp() {
    }

    public static void main(String[] args) {
        double accuracy = train(Backends.defaultBackend(), 300, true);
        System.out.printf("accuracy on the training set: %.1f%%%n", 100 * accuracy);
    }

    /** Trains for {@code steps} full-batch steps; returns the accuracy on the training set. */
    static double train(Backend backend, int steps, boolean print) {
        Generator generator = new Generator(11);
        float[] points = new float[CLASSES * PER_CLASS * 2];
        long[] labels = new long[CLASSES * PER_CLASS];
        for (int c = 0; c < CLASSES; c++) {
            double angle = 2 * Math.PI * c / CLASSES;
            for (int i = 0; i < PER_CLASS; i++) {
                int n = c * PER_CLASS + i;
                // Centres on the unit circle, spread 0.6: the clusters overlap, so 100% is out of reach.
                points[2 * n] = (float) (Math.cos(angle) + 0.6 * generator.nextGaussian());
                points[2 * n + 1] = (float) (Math.sin(angle) + 0.6 * generator.nextGaussian());
                labels[n] = c;
            }
        }
        Tensor x = Tensor.on(backend).fromArray(points, CLASSES * PER_CLASS, 2);
        Tensor y = Tensor.on(backend).fromArray(labels, CLASSES * PER_CLASS);

        NnContext ctx = NnContext.of(backend, DType.FLOAT32, generator.split());
        Module model = new Sequential(new Linear(2, 32, ctx), new ReLU(), new Linear(32, CLASSES, ctx));
        Optimizer optimizer = new Adam(model.parameters(), 0.01);
        CrossEntropyLoss lossFunction = new CrossEntropyLoss();
        if (print) {
            System.out.println(model + " on backend '" + backend.name() + "'");
        }
        for (int step = 1; step <= steps; step++) {
            optimizer.zeroGrad();
            Tensor loss = lossFunction.forward(model.forward(x), y);
            loss.backward();
            optimizer.step();
            if (print && (step == 1 || step % 50 == 0)) {
                System.out.printf("step %3d  loss %.4f%n", step, loss.item());
            }
        }
        try (var noGrad = Tensor.noGrad()) {
            long[] predicted = model.forward(x).argmax(1, false).toLongArray();
            int correct = 0;
            for (int i = 0; i < labels.length; i++) {
                correct += predicted[i] == labels[i] ? 1 : 0;
            }
            return (double) correct / labels.length;
        }
    }
}
