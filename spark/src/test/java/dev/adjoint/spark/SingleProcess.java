package dev.adjoint.spark;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.spi.Backend;

import java.util.ArrayList;
import java.util.List;

/**
 * What n replicas compute, in one process: at each step the global batch is the concatenation, in
 * rank order, of the micro-batches the replicas' samplers pick from their shards, and one model takes
 * one step on its mean loss.
 */
final class SingleProcess {
    final Module model;
    final Optimizer optimizer;
    final double[] losses;

    SingleProcess(ModelFactory modelFactory, OptimizerFactory optimizerFactory, LossFunction loss, List<Example> data,
                  int replicas, int globalBatch, long seed, long steps, String backendName) {
        Backend backend = Backends.get(backendName);
        model = modelFactory.create(backend);
        optimizer = optimizerFactory.create(model);
        DType dtype = model.parameters().get(0).dtype();
        int micro = globalBatch / replicas;
        List<List<Example>> shards = new ArrayList<>();
        for (int r = 0; r < replicas; r++) {
            shards.add(new ArrayList<>());
        }
        for (int i = 0; i < data.size(); i++) {
            shards.get(i % replicas).add(data.get(i));
        }
        int smallest = shards.stream().mapToInt(List::size).min().orElseThrow();
        int stepsPerEpoch = ShardSampler.stepsPerEpoch(smallest, micro);
        ShardSampler[] samplers = new ShardSampler[replicas];
        for (int r = 0; r < replicas; r++) {
            samplers[r] = new ShardSampler(seed, r, shards.get(r).size(), micro, stepsPerEpoch);
        }
        int width = data.get(0).features().length;
        losses = new double[(int) steps];
        for (long s = 0; s < steps; s++) {
            float[] x = new float[globalBatch * width];
            long[] y = new long[globalBatch];
            int row = 0;
            for (int r = 0; r < replicas; r++) {
                for (int i : samplers[r].rows(s)) {
                    Example e = shards.get(r).get(i);
                    System.arraycopy(e.features(), 0, x, row * width, width);
                    y[row++] = e.label();
                }
            }
            Tensor features = Tensor.on(backend).fromArray(x, globalBatch, width);
            if (dtype != DType.FLOAT32) {
                features = features.toType(dtype);
            }
            optimizer.zeroGrad();
            Tensor l = loss.compute(model.call(features), Tensor.on(backend).fromArray(y, globalBatch));
            l.backward();
            optimizer.step();
            losses[(int) s] = l.item();
        }
    }
}
