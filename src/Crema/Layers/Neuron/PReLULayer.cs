using Crema.Fillers;
using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// y = max(x, 0) + a_c·min(x, 0) with a learnable slope a_c per channel (axis 1), or one shared slope;
/// dx = dy for x &gt; 0, a_c·dy otherwise; da_c += Σ dy·min(x, 0).
/// </summary>
[LayerType("PReLU")]
public sealed class PReLULayer : NeuronLayer
{
    private bool _channelShared;
    private int _num;
    private int _channels;
    private int _dim;

    public PReLULayer(LayerParameter param) : base(param) { }

    // Backward needs x's sign for every slope, including negative learned ones.
    protected override bool NeedsInputForBackward => true;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(bottom[0].NumAxes >= 2, $"bottom {bottom[0].ShapeString()} needs at least 2 axes (N, C, ...)");
        var p = Param.PreluParam ?? new PReLUParameter();
        _channelShared = p.ChannelShared;
        int channels = bottom[0].ShapeAt(1);
        int expected = _channelShared ? 1 : channels;
        if (Blobs.Count > 0)
        {
            Check(Blobs.Count == 1, $"has {Blobs.Count} parameter blobs, expected 1 (the slopes)");
            Check(Blobs[0].Count == expected,
                $"slope blob has {Blobs[0].Count} values, expected {expected} ({(_channelShared ? "channel_shared" : $"{channels} channels")})");
        }
        else
        {
            // Caffe's shapes: a 0-axis scalar when shared, (C) otherwise.
            var slopes = _channelShared ? new Blob() : new Blob(channels);
            Filler.Fill(slopes, p.Filler ?? new FillerParameter { Type = "constant", Value = 0.25f });
            Blobs.Add(slopes);
        }
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        // NOTE: if/throw rather than Check: Reshape runs every forward, and Check's interpolated message would allocate.
        var b = bottom[0];
        if (b.NumAxes < 2)
        {
            throw Error($"bottom {b.ShapeString()} needs at least 2 axes (N, C, ...)");
        }
        if (!_channelShared && b.ShapeAt(1) != Blobs[0].Count)
        {
            throw Error($"bottom has {b.ShapeAt(1)} channels but {Blobs[0].Count} slopes");
        }
        base.Reshape(bottom, top);
        _num = b.ShapeAt(0);
        _channels = b.ShapeAt(1);
        _dim = b.CountFrom(2);
    }

    // x, y: (N, C, dim); one slope per C (or slope 0 for all).
    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y)
    {
        var slopes = Blobs[0].Data;
        for (int n = 0, offset = 0; n < _num; n++)
        {
            for (int c = 0; c < _channels; c++, offset += _dim)
            {
                float a = slopes[_channelShared ? 0 : c];
                Activations.ReluForward(x.Slice(offset, _dim), y.Slice(offset, _dim), a);
            }
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        var x = Input(bottom, top);
        ReadOnlySpan<float> dy = top[0].Diff;
        var slopes = Blobs[0];
        // NOTE: the slope gradient goes first: in place, writing dx overwrites dy.
        if (ShouldComputeParamGradient(0))
        {
            var slopeDiff = slopes.Diff;
            for (int n = 0, offset = 0; n < _num; n++)
            {
                for (int c = 0; c < _channels; c++, offset += _dim)
                {
                    slopeDiff[_channelShared ? 0 : c] += Activations.NegativePartDot(x.Slice(offset, _dim), dy.Slice(offset, _dim));
                }
            }
        }
        if (propagateDown[0])
        {
            var dx = bottom[0].Diff;
            for (int n = 0, offset = 0; n < _num; n++)
            {
                for (int c = 0; c < _channels; c++, offset += _dim)
                {
                    float a = slopes.Data[_channelShared ? 0 : c];
                    Activations.ReluBackward(x.Slice(offset, _dim), dy.Slice(offset, _dim), dx.Slice(offset, _dim), a);
                }
            }
        }
    }
}
