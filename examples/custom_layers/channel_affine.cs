using Crema;
using Crema.Fillers;
using Crema.Layers;
using Crema.Proto;

/// <summary>
/// A layer with learnable blobs: y[n,c,…] = γ_c · x[n,c,…] + β_c, γ = Blobs[0] (C), β = Blobs[1] (C).
/// param_str "scale=1, bias=0" gives the initial values. The solver updates both blobs and .caffemodel files save them.
/// </summary>
public sealed class ChannelAffineLayer : CustomLayer
{
    public ChannelAffineLayer(LayerParameter param) : base(param) { }

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(bottom.Count == 1 && top.Count == 1, $"needs 1 bottom and 1 top, got {bottom.Count} and {top.Count}");
        Check(bottom[0].NumAxes >= 2, $"needs an (N, C, …) input, got ({bottom[0].ShapeString()})");
        CheckParamKeys("scale", "bias");
        int channels = bottom[0].Shape[1];
        if (Blobs.Count > 0)
        {
            // Loaded from a .caffemodel (or the prototxt): keep them, but they must fit this input.
            Check(Blobs.Count == 2 && Blobs[0].Count == channels && Blobs[1].Count == channels,
                $"expects 2 learnable blobs of {channels} values, got {Blobs.Count}");
            return;
        }
        var scale = new Blob(channels);
        var bias = new Blob(channels);
        Filler.Fill(scale, new FillerParameter { Type = "constant", Value = GetFloat("scale", 1f) });
        Filler.Fill(bias, new FillerParameter { Type = "constant", Value = GetFloat("bias", 0f) });
        Blobs.Add(scale);
        Blobs.Add(bias);
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(bottom[0].Shape[1] == Blobs[0].Count, $"input has {bottom[0].Shape[1]} channels, the layer was set up for {Blobs[0].Count}");
        top[0].ReshapeLike(bottom[0]);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var (n, c, inner) = Dims(bottom[0]);
        var x = bottom[0].Data;
        var y = top[0].Data;
        var scale = Blobs[0].Data;
        var bias = Blobs[1].Data;
        for (int s = 0; s < n; s++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                int offset = (s * c + ch) * inner;
                for (int i = offset; i < offset + inner; i++)
                {
                    y[i] = scale[ch] * x[i] + bias[ch];
                }
            }
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        var (n, c, inner) = Dims(bottom[0]);
        var x = bottom[0].Data;
        var dy = top[0].Diff;
        var scale = Blobs[0].Data;
        // Parameter gradients accumulate (+=): the solver zeroes them, and iter_size sums several passes.
        bool doScale = ShouldComputeParamGradient(0), doBias = ShouldComputeParamGradient(1);
        var dScale = Blobs[0].Diff;
        var dBias = Blobs[1].Diff;
        var dx = propagateDown[0] ? bottom[0].Diff : Span<float>.Empty;
        for (int s = 0; s < n; s++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                int offset = (s * c + ch) * inner;
                for (int i = offset; i < offset + inner; i++)
                {
                    if (doScale)
                    {
                        dScale[ch] += dy[i] * x[i];
                    }
                    if (doBias)
                    {
                        dBias[ch] += dy[i];
                    }
                    if (propagateDown[0])
                    {
                        dx[i] = scale[ch] * dy[i];
                    }
                }
            }
        }
    }

    private static (int N, int C, int Inner) Dims(Blob b) => (b.Shape[0], b.Shape[1], b.CountFrom(2));
}
