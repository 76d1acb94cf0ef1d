using Crema;
using Crema.Layers;
using Crema.Proto;

/// <summary>Euclidean loss: E = 1/(2N) · Σ (pred − label)², with N the batch size (bottom[0].Num).</summary>
public sealed class EuclideanLossLayer : Layer
{
    // pred − label, written by Forward and read by Backward (a Blob so Reshape only reallocates when the batch grows).
    private readonly Blob _difference = new();

    public EuclideanLossLayer(LayerParameter param) : base(param) { }

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        // bottom[0] = predictions, bottom[1] = labels (targets); top[0] = the loss.
        Check(bottom.Count == 2, $"needs exactly 2 bottoms (predictions, labels), got {bottom.Count}");
        Check(top.Count == 1, $"produces exactly 1 top (the loss), got {top.Count}");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        // Check's interpolated message is only built when the check fails, so this costs nothing per pass.
        Check(bottom[0].Count == bottom[1].Count,
            $"predictions '{bottom[0].Name}' ({bottom[0].ShapeString()}) and labels '{bottom[1].Name}' ({bottom[1].ShapeString()}) must have the same number of elements, got {bottom[0].Count} and {bottom[1].Count}");
        top[0].Reshape([]);               // a scalar: 0 axes, Count 1
        _difference.ReshapeLike(bottom[0]);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var pred = bottom[0].Data;
        var label = bottom[1].Data;
        var diff = _difference.Data;
        double sum = 0;
        for (int i = 0; i < diff.Length; i++)
        {
            diff[i] = pred[i] - label[i];
            sum += (double)diff[i] * diff[i];
        }
        top[0].Data[0] = (float)(sum / bottom[0].Num / 2);
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        // dE/dpred = +(pred − label)/N, dE/dlabel = −(pred − label)/N, each times the loss weight the net put in top[0].Diff[0].
        float weight = top[0].Diff[0] / bottom[0].Num;
        var diff = _difference.Data;
        for (int b = 0; b < 2; b++)
        {
            if (!propagateDown[b])
            {
                continue;   // e.g. labels from a data layer: nobody needs their gradient
            }
            float sign = b == 0 ? 1f : -1f;
            var grad = bottom[b].Diff;
            for (int i = 0; i < grad.Length; i++)
            {
                grad[i] = sign * weight * diff[i];
            }
        }
    }
}
