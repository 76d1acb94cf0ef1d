using Crema;
using Crema.Layers;
using Crema.Proto;

/// <summary>
/// Splits each row into its mean and the centred residual: x (N, D…) → top[0] mean (N, 1), top[1] = x − mean (shape of x).
/// A layer with two tops: Backward sums the gradient arriving through both.
/// </summary>
public sealed class MeanResidualLayer : Layer
{
    public MeanResidualLayer(LayerParameter param) : base(param) { }

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(bottom.Count == 1, $"needs exactly 1 bottom, got {bottom.Count}");
        Check(top.Count == 2, $"produces exactly 2 tops (mean, residual), got {top.Count}");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(bottom[0].NumAxes >= 1 && bottom[0].Count > 0, $"needs a non-empty input with a batch axis, got ({bottom[0].ShapeString()})");
        top[0].Reshape(bottom[0].Shape[0], 1);
        top[1].ReshapeLike(bottom[0]);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        int n = bottom[0].Shape[0];
        int dim = bottom[0].Count / n;
        var x = bottom[0].Data;
        var mean = top[0].Data;
        var residual = top[1].Data;
        for (int r = 0; r < n; r++)
        {
            var row = x.Slice(r * dim, dim);
            float m = System.Numerics.Tensors.TensorPrimitives.Sum((ReadOnlySpan<float>)row) / dim;
            mean[r] = m;
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, m, residual.Slice(r * dim, dim));
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (!propagateDown[0])
        {
            return;
        }
        int n = bottom[0].Shape[0];
        int dim = bottom[0].Count / n;
        var dMean = top[0].Diff;
        var dResidual = top[1].Diff;
        var dx = bottom[0].Diff;
        for (int r = 0; r < n; r++)
        {
            // dx_j = dMean/D + dRes_j − (Σ_k dRes_k)/D: the mean sees every x_j with weight 1/D, and so does each residual.
            var dRow = dResidual.Slice(r * dim, dim);
            float shift = (dMean[r] - System.Numerics.Tensors.TensorPrimitives.Sum((ReadOnlySpan<float>)dRow)) / dim;
            System.Numerics.Tensors.TensorPrimitives.Add(dRow, shift, dx.Slice(r * dim, dim));
        }
    }
}
