/** {@code torch.nn} and {@code torch.optim} on Adjoint: modules, losses, optimizers, data and checkpoints. */
module dev.adjoint.nn {
    requires transitive dev.adjoint.api;
    requires com.fasterxml.jackson.databind;

    exports dev.adjoint.nn;
    exports dev.adjoint.nn.loss;
    exports dev.adjoint.nn.optim;
    exports dev.adjoint.nn.io;
    exports dev.adjoint.nn.data;
}
