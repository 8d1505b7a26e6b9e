package dev.adjoint;

/**
 * What torch.sort, torch.topk and torch.max / torch.min along a dimension return: the selected
 * {@code values} (differentiable: their gradient flows back to the elements they came from) and the
 * INT64 {@code indices} of those elements along the dimension.
 */
public record ValuesAndIndices(Tensor values, Tensor indices) {
}
