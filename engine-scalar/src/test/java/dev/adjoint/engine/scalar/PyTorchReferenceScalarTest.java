package dev.adjoint.engine.scalar;

import dev.adjoint.backend.Backends;
import dev.adjoint.conformance.PyTorchReference;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

/** The scalar backend against PyTorch's reference values for composite functions. */
class PyTorchReferenceScalarTest {
    @TestFactory
    Stream<DynamicNode> pytorchReference() {
        return PyTorchReference.tests(Backends.get("scalar"));
    }
}
