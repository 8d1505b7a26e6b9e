/**
 * Gradient checks: reverse-mode Jacobians compared with finite differences, to first and second
 * order, on any backend. Start with {@link dev.adjoint.check.GradCheck#gradcheck}.
 */
package dev.adjoint.check;
