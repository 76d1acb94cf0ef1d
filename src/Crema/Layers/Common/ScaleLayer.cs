using Crema.Fillers;
using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// y[o, d, i] = x[o, d, i] · s[d] (+ b[d]) where s covers bottom[0]'s axes [axis, axis + num_axes): a learned blob
/// (filler default constant 1) or bottom[1]; with bias_term a learned bias b of the same shape (blobs: [s, b] or [b]).
/// </summary>
[LayerType("Scale")]
public sealed class ScaleLayer(LayerParameter param) : Layer(param), IChannelAffine
{
    private int _axis;
    private bool _biasTerm;
    private int _outer, _dim, _inner;
    // In place, x is overwritten by y but the scale's gradient needs x: keep a copy.
    private float[] _input = [];

    public override BlobCount BottomCount => BlobCount.Between(1, 2);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    private int BiasIndex(int bottoms) => bottoms == 1 ? 1 : 0;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.ScaleParam ?? new ScaleParameter();
        _axis = p.Axis;
        _biasTerm = p.BiasTerm;
        int expected = (bottom.Count == 1 ? 1 : 0) + (_biasTerm ? 1 : 0);
        if (Blobs.Count > 0)
        {
            // Shapes are checked against the bottoms in Reshape.
            Check(Blobs.Count == expected, $"expected {expected} learnable blob(s) for {bottom.Count} bottom(s) and bias_term {_biasTerm}, got {Blobs.Count}");
            return;
        }
        if (bottom.Count == 1)
        {
            Blobs.Add(NewOperand(bottom[0], p.NumAxes));
            Filler.Fill(Blobs[0], p.Filler ?? new FillerParameter { Type = "constant", Value = 1 });
        }
        if (_biasTerm)
        {
            // The bias spans the same axes as the scale, whichever provides it.
            var bias = NewOperand(bottom[0], bottom.Count == 1 ? p.NumAxes : bottom[1].NumAxes);
            Filler.Fill(bias, p.BiasFiller);
            Blobs.Add(bias);
        }
    }

    private Blob NewOperand(Blob bottom, int numAxes)
    {
        string? error = AxisOperand.TryLearnedShape(bottom, _axis, numAxes, out int[] shape);
        return error == null ? new Blob(shape) : throw Error(error);
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var scale = bottom.Count > 1 ? bottom[1] : Blobs[0];
        string? error = AxisOperand.TryResolve(bottom[0], scale, _axis, "scale", out _outer, out _dim, out _inner);
        Check(error == null, $"{error}");
        if (_biasTerm)
        {
            var bias = Blobs[BiasIndex(bottom.Count)];
            Check(bias.Count == _dim, $"bias has {bias.Count} values ({bias.ShapeString()}), the scale has {_dim}");
        }
        if (bottom[0] == top[0] && _input.Length < bottom[0].Count)
        {
            _input = new float[bottom[0].Count];
        }
        top[0].ReshapeLike(bottom[0]);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0].Data;
        if (bottom[0] == top[0])
        {
            x.CopyTo(_input);
        }
        var y = top[0].Data;
        AxisBroadcast.Multiply(x, (bottom.Count > 1 ? bottom[1] : Blobs[0]).Data, y, _outer, _dim, _inner);
        if (_biasTerm)
        {
            AxisBroadcast.Add(y, Blobs[BiasIndex(bottom.Count)].Data, y, _outer, _dim, _inner);
        }
    }

    // Foldable when the scale is learned and spans exactly the channel axis 1 (any further axes it covers have size 1).
    bool IChannelAffine.TryGetChannelAffine(IReadOnlyList<Blob> bottom, out double[] scale, out double[] shift)
    {
        scale = shift = [];
        var x = bottom[0];
        if (bottom.Count != 1 || x.NumAxes < 2 || x.CanonicalAxis(_axis) != 1 || Blobs[0].Count != x.ShapeAt(1))
        {
            return false;
        }
        int channels = x.ShapeAt(1);
        scale = new double[channels];
        shift = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = Blobs[0].Data[c];
            shift[c] = _biasTerm ? Blobs[1].Data[c] : 0;
        }
        return true;
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        var dy = top[0].Diff;
        int biasIndex = BiasIndex(bottom.Count);
        if (_biasTerm && ShouldComputeParamGradient(biasIndex))
        {
            AxisBroadcast.SumInto(dy, Blobs[biasIndex].Diff, _outer, _dim, _inner, accumulate: true);
        }
        bool learned = bottom.Count == 1;
        var scale = learned ? Blobs[0] : bottom[1];
        if (learned ? ShouldComputeParamGradient(0) : propagateDown[1])
        {
            // ds[d] = Σ dy·x; a parameter accumulates, a bottom is overwritten. Done before dx, which may alias dy.
            ReadOnlySpan<float> x = bottom[0] == top[0] ? _input.AsSpan(0, dy.Length) : bottom[0].Data;
            AxisBroadcast.DotInto(dy, x, scale.Diff, _outer, _dim, _inner, accumulate: learned);
        }
        if (propagateDown[0])
        {
            AxisBroadcast.Multiply(dy, scale.Data, bottom[0].Diff, _outer, _dim, _inner);
        }
    }
}
