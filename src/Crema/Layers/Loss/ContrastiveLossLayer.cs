using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Siamese loss over pairs (a, b) with similarity y ∈ {0, 1}: loss = Σ [y·d² + (1 − y)·max(margin − d, 0)²] / 2N, d = ‖a − b‖
/// (legacy_version: max(margin − d², 0) for dissimilar pairs).
/// </summary>
[LayerType("ContrastiveLoss")]
public sealed class ContrastiveLossLayer : LossLayer
{
    private readonly Blob _difference = new();
    private float[] _distSq = [];
    private float _margin;
    private bool _legacy;
    private int _num;
    private int _dim;

    public ContrastiveLossLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(3);

    /// <summary>Bottom 2 holds the similarity labels.</summary>
    public override bool AllowForceBackward(int bottomIndex) => bottomIndex != 2;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.ContrastiveLossParam ?? new ContrastiveLossParameter();
        _margin = p.Margin;
        _legacy = p.LegacyVersion;
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (!bottom[0].ShapeEquals(bottom[1]))
        {
            throw Error($"the two feature bottoms must have the same shape: {Shape(bottom[0])} vs. {Shape(bottom[1])}");
        }
        base.Reshape(bottom, top);
        _num = bottom[0].Shape[0];
        _dim = _num == 0 ? 0 : bottom[0].Count / _num;
        if (bottom[2].Count != _num)
        {
            throw Error($"needs one similarity label per pair: label shape {Shape(bottom[2])} vs. feature shape {Shape(bottom[0])}");
        }
        _difference.ReshapeLike(bottom[0]);
        if (_distSq.Length < _num)
        {
            _distSq = new float[_num];
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var d = _difference.Data;
        System.Numerics.Tensors.TensorPrimitives.Subtract(bottom[0].Data, bottom[1].Data, d);
        ReadOnlySpan<float> y = bottom[2].Data;
        double loss = 0;
        for (int n = 0; n < _num; n++)
        {
            float dsq = System.Numerics.Tensors.TensorPrimitives.SumOfSquares((ReadOnlySpan<float>)d.Slice(n * _dim, _dim));
            _distSq[n] = dsq;
            if ((int)y[n] != 0)
            {
                loss += dsq;
            }
            else if (_legacy)
            {
                loss += Math.Max(_margin - dsq, 0f);
            }
            else
            {
                float gap = Math.Max(_margin - MathF.Sqrt(dsq), 0f);
                loss += gap * gap;
            }
        }
        top[0].Data[0] = (float)(loss / Math.Max(1, _num) / 2);
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        RefuseLabelGradient(propagateDown, labelIndex: 2);
        ReadOnlySpan<float> d = _difference.Data;
        ReadOnlySpan<float> y = bottom[2].Data;
        for (int b = 0; b < 2; b++)
        {
            if (!propagateDown[b])
            {
                continue;
            }
            float alpha = (b == 0 ? 1 : -1) * top[0].Diff[0] / Math.Max(1, _num);
            var dx = bottom[b].Diff;
            for (int n = 0; n < _num; n++)
            {
                float factor;
                if ((int)y[n] != 0)
                {
                    factor = alpha;
                }
                else if (_legacy)
                {
                    factor = _margin - _distSq[n] > 0 ? -alpha : 0;
                }
                else
                {
                    // NOTE: 1e-4 keeps the division finite for coincident pairs, as Caffe does.
                    float dist = MathF.Sqrt(_distSq[n]);
                    float gap = _margin - dist;
                    factor = gap > 0 ? -alpha * gap / (dist + 1e-4f) : 0;
                }
                System.Numerics.Tensors.TensorPrimitives.Multiply(d.Slice(n * _dim, _dim), factor, dx.Slice(n * _dim, _dim));
            }
        }
    }
}
