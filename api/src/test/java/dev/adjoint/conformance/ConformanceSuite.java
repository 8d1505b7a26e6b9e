package dev.adjoint.conformance;

import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import java.util.stream.Stream;

/**
 * The whole conformance suite for one backend. An engine module runs it against itself with one
 * small class:
 * <pre>{@code
 * class MyConformanceTest extends ConformanceSuite {
 *     protected Backend backend() { return new MyBackend(); }
 * }
 * }</pre>
 * The reference backend ("scalar", from adjoint-engine-scalar) must be on the test class path: every
 * result is diffed against its FLOAT64 output.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ConformanceSuite {
    private final OpConformance.Tally tally = new OpConformance.Tally();

    protected abstract Backend backend();

    @TestFactory
    Stream<DynamicNode> ops() {
        return OpConformance.tests(backend(), tally);
    }

    @TestFactory
    Stream<DynamicNode> autograd() {
        return AutogradSemantics.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> reshapeViews() {
        return ReshapeViews.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> int64() {
        return Int64Semantics.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> pytorchDtypes() {
        return DTypeReference.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> pytorchNearestSources() {
        return NearestReference.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> softmaxEdgeCases() {
        return SoftmaxEdgeCases.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> gradientEdgeCases() {
        return GradientEdgeCases.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> powAndSignSpecialValues() {
        return PowAndSignSpecialValues.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> argumentEdgeCases() {
        return ArgumentEdgeCases.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> zeroDimensionalDims() {
        return ZeroDimensionalDims.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> signedZeros() {
        return SignedZeros.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> scanAndSortEdgeCases() {
        return ScanAndSortEdgeCases.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> badInputs() {
        return BadInputMatrix.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> defaultBackendSelection() {
        return DefaultBackendSelection.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> gradCheck() {
        return GradCheckBehaviour.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> forwardMode() {
        return ForwardModeSemantics.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> transformsReference() {
        return TransformsReference.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> pytorchReference() {
        return PyTorchReference.tests(backend());
    }

    @TestFactory
    Stream<DynamicNode> unaryResultsDoNotDependOnPosition() {
        return UnaryPositionIndependence.tests(backend());
    }

    @Test
    void resultsDoNotChangeOnceTheJitCompilesTheKernels() throws Exception {
        JitDeterminism.check(backend());
    }

    @Test
    void everyApiOpHasACatalogueEntry() {
        CatalogueCoverage.assertEveryOpCovered();
    }

    @AfterAll
    void printSummary() {
        System.out.println(tally.summary(backend().name()));
    }
}
