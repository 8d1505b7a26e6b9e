package dev.adjoint.benchmarks.examples;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.ClipGrad;
import dev.adjoint.nn.LSTMCell;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.ExponentialLR;
import dev.adjoint.nn.optim.RMSprop;
import dev.adjoint.spi.Backend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

import static dev.adjoint.benchmarks.CommandLine.longNumber;
import static dev.adjoint.benchmarks.CommandLine.number;
import static dev.adjoint.benchmarks.CommandLine.value;
import static dev.adjoint.benchmarks.CommandLine.wholeNumber;

/**
 * Trains {@link CharLstm} on {@link CharCorpus#genesis()}, the way char-rnn's PyTorch ports read: random
 * windows of the text, cross-entropy of the logits {@code [N, vocab, T]} against the next characters
 * {@code [N, T]}, RMSprop, gradients clipped to [-5, 5] elementwise, the rate decayed exponentially after
 * every evaluation. Prints the validation loss (nats and bits per character) at every evaluation and a
 * sample generated from the trained model, and writes the loss curve to a PNG. Run it with
 * {@code benchmarks/example char-lstm --help}.
 */
public final class TrainCharLstm {
    static final String USAGE = """
            usage: benchmarks/example char-lstm [options]
              --backend NAME     scalar, simd, nd4j (default: Backends.defaultBackend(), now '%s')
              --steps N          training steps (default 800)
              --eval-every N     steps between validations, and between learning-rate decays (default 50)
              --batch-size B     windows per step (default 32)
              --length T         characters per window (default 64)
              --hidden H         LSTM hidden size (default 128)
              --lr X             RMSprop learning rate (default 0.003)
              --seed S           seed of the initial weights, dropout, windows and the sample (default 0)
              --sample N         characters to generate after training (default 400)
              --out FILE.png     where to write the loss curve (default char-lstm.png)
            """;

    record Options(String backend, int steps, int evalEvery, int batchSize, int length, int hidden, double lr, long seed,
                   int sample, Path out) {
        static Options parse(String[] args) {
            String backend = null;
            int steps = 800;
            int evalEvery = 50;
            int batchSize = 32;
            int length = 64;
            int hidden = 128;
            double lr = 3e-3;
            long seed = 0;
            int sample = 400;
            Path out = Path.of("char-lstm.png");
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--backend" -> backend = value(args, ++i, a);
                    case "--steps" -> steps = wholeNumber(args, ++i, a);
                    case "--eval-every" -> evalEvery = wholeNumber(args, ++i, a);
                    case "--batch-size" -> batchSize = wholeNumber(args, ++i, a);
                    case "--length" -> length = wholeNumber(args, ++i, a);
                    case "--hidden" -> hidden = wholeNumber(args, ++i, a);
                    case "--lr" -> lr = number(args, ++i, a);
                    case "--seed" -> seed = longNumber(args, ++i, a);
                    case "--sample" -> sample = wholeNumber(args, ++i, a);
                    case "--out" -> out = Path.of(value(args, ++i, a));
                    default -> throw new IllegalArgumentException("unknown option '" + a + "' (--help lists the options)");
                }
            }
            return new Options(backend, steps, evalEvery, batchSize, length, hidden, lr, seed, sample, out);
        }
    }

    /** One validation: the step, the mean training loss since the last one and the validation loss (nats/char). */
    record Evaluation(int step, double trainLoss, double validationLoss, double seconds) {
    }

    /** The run's validations and the generated sample. */
    record Run(List<Evaluation> history, String sample) {
    }

    private TrainCharLstm() {
    }

    public static void main(String[] args) throws IOException {
        if (List.of(args).contains("--help")) {
            System.out.printf(USAGE, Backends.defaultBackend().name());
            return;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("TrainCharLstm: " + e.getMessage());
            System.exit(2);
            return;
        }
        Backend backend = options.backend() == null ? Backends.defaultBackend() : Backends.get(options.backend());
        CharCorpus corpus = CharCorpus.genesis();
        System.out.printf(Locale.ROOT, "char LSTM on '%s': %d characters (%d for training), vocabulary of %d%n",
                backend.name(), corpus.text.length(), corpus.train.length, corpus.vocabSize());
        Run run = train(options, backend, corpus, System.out::println);
        System.out.println("sample:\n" + run.sample());
        System.out.println("loss curve: " + options.out().toAbsolutePath());
    }

    static Run train(Options o, Backend backend, CharCorpus corpus, Consumer<String> log) throws IOException {
        NnContext ctx = NnContext.of(backend, DType.FLOAT32, new Generator(o.seed()));
        CharLstm model = new CharLstm(corpus.vocabSize(), 32, o.hidden(), 2, 0.1, ctx);
        RMSprop optimizer = new RMSprop(model.parameters(), o.lr(), 0.95, 1e-8, 0, 0, false);
        ExponentialLR decay = new ExponentialLR(optimizer, 0.95);
        CrossEntropyLoss lossFn = new CrossEntropyLoss();
        Generator windows = new Generator(o.seed() + 1);
        Tensor[] validation = corpus.validationWindows(o.length(), backend);

        LossChart chart = new LossChart("Character LSTM on Genesis 1-5 (" + backend.name() + ")",
                "cross-entropy (nats per character)", "validation", Math.max(1, o.evalEvery() / 5));
        List<Evaluation> history = new ArrayList<>();
        double sum = 0;
        int count = 0;
        long start = System.nanoTime();
        for (int step = 1; step <= o.steps(); step++) {
            Tensor[] xy = corpus.randomWindows(o.batchSize(), o.length(), windows, backend);
            optimizer.zeroGrad();
            Tensor logits = model.forward(xy[0], null).logits();              // [N, T, vocab]
            Tensor loss = lossFn.forward(logits.transpose(1, 2), xy[1]);       // [N, vocab, T] against [N, T]
            loss.backward();
            ClipGrad.clipGradValue(model.parameters(), 5.0);
            optimizer.step();
            double value = loss.item();
            chart.addStep(step, value);
            sum += value;
            count++;
            if (step % o.evalEvery() == 0 || step == o.steps()) {
                double validationLoss = evaluate(model, validation, lossFn);
                chart.addHeldOut(step, validationLoss);
                Evaluation e = new Evaluation(step, sum / count, validationLoss, (System.nanoTime() - start) / 1e9);
                history.add(e);
                log.accept(String.format(Locale.ROOT, "step %4d: train loss %.4f, validation loss %.4f (%.3f bits/char), "
                        + "lr %.5f (%.1f s)", step, e.trainLoss(), e.validationLoss(), e.validationLoss() / Math.log(2),
                        optimizer.lr(), e.seconds()));
                decay.step();
                sum = 0;
                count = 0;
            }
        }
        chart.write(o.out());
        return new Run(history, sample(model, corpus, "And God ", o.sample(), 0.8, new Generator(o.seed() + 2), backend));
    }

    /** The mean cross-entropy over the validation windows, in evaluation mode, without a graph. */
    static double evaluate(CharLstm model, Tensor[] validation, CrossEntropyLoss lossFn) {
        model.eval();
        try (var scope = Tensor.noGrad()) {
            return lossFn.forward(model.forward(validation[0], null).logits().transpose(1, 2), validation[1]).item();
        } finally {
            model.train();
        }
    }

    /**
     * {@code prompt} followed by {@code length} characters drawn one at a time from the model's
     * distribution at {@code temperature}, the LSTM state carried from each character to the next.
     */
    static String sample(CharLstm model, CharCorpus corpus, String prompt, int length, double temperature,
                         Generator generator, Backend backend) {
        model.eval();
        StringBuilder out = new StringBuilder(prompt);
        var create = Tensor.on(backend);
        try (var scope = Tensor.noGrad()) {
            CharLstm.Output step = model.forward(create.fromArray(corpus.encode(prompt), 1, prompt.length()), null);
            LSTMCell.State state = step.state();
            Tensor last = step.logits().narrow(1, prompt.length() - 1, 1);
            for (int i = 0; i < length; i++) {
                double[] p = last.reshape(-1).div(temperature).softmax(0).toDoubleArray();
                long next = draw(p, generator.nextUniform());
                out.append(corpus.decode(next));
                step = model.forward(create.fromArray(new long[] {next}, 1, 1), state);
                state = step.state();
                last = step.logits();
            }
        } finally {
            model.train();
        }
        return out.toString();
    }

    /** The index at which the cumulative sum of {@code p} first exceeds {@code u} (inverse CDF sampling). */
    static long draw(double[] p, double u) {
        double cumulative = 0;
        for (int i = 0; i < p.length; i++) {
            cumulative += p[i];
            if (u < cumulative) {
                return i;
            }
        }
        return p.length - 1;
    }
}
