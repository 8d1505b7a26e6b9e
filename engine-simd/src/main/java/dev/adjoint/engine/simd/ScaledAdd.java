package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code o = scale * a + alpha * b} over contiguous runs: the one pass an optimizer update
 * ({@code buf.mul_(m).add_(g, 1 - d)}, {@code p.sub_(buf, lr)}) needs, instead of a scaled temporary
 * and an add. Each product is rounded before the sum, as the separate ops round it: {@code mul} then
 * {@code add}, never {@code fma}, so simd agrees bit for bit with the scalar engine here.
 */
final class ScaledAdd {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    private ScaledAdd() {
    }

    static void floats(float scale, float[] a, int ao, float alpha, float[] b, int bo, float[] o, int oo, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        for (; i < bound; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, a, ao + i).mul(scale);
            FloatVector y = FloatVector.fromArray(S, b, bo + i).mul(alpha);
            x.add(y).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = scale * a[ao + i] + alpha * b[bo + i];
        }
    }

    static void doubles(double scale, double[] a, int ao, double alpha, double[] b, int bo, double[] o, int oo, int n) {
        int i = 0;
        int bound = D.loopBound(n);
        for (; i < bound; i += D.length()) {
            DoubleVector x = DoubleVector.fromArray(D, a, ao + i).mul(scale);
            DoubleVector y = DoubleVector.fromArray(D, b, bo + i).mul(alpha);
            x.add(y).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = scale * a[ao + i] + alpha * b[bo + i];
        }
    }
}
