using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using Crema.Tests.Kernels;

namespace Crema.Tests.Layers;

/// <summary>The frozen-inference Winograd path of ConvolutionLayer against the same layer's im2col path.</summary>
public class ConvolutionWinogradTests
{
    // (shape, num_output, pad, group, bias)
    public static TheoryData<int[], int, int, int, bool> Cases => new()
    {
        { [1, 16, 9, 11], 16, 1, 1, true },
        { [3, 20, 8, 8], 24, 1, 1, true },
        { [2, 32, 7, 6], 32, 0, 1, false },
        { [1, 32, 5, 5], 48, 2, 2, true },
        { [2, 64, 14, 14], 64, 1, 1, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FrozenForward_EqualsUnfrozen(int[] shape, int numOutput, int pad, int group, bool bias)
    {
        var bottoms = new[] { TestBlobs.Uniform(1701, 0f, 1f, shape), TestBlobs.Uniform(1702, 0f, 1f, shape) };
        var tops = new[] { new Blob(), new Blob() };
        var layer = Layer(numOutput, pad, group, bias, std: MathF.Sqrt(2f / (9 * shape[1] / group)));
        layer.SetUp(bottoms, tops);
        layer.Forward(bottoms, tops);
        Assert.False(layer.HasWinogradCache);
        var expected = tops.Select(t => t.Data.ToArray()).ToArray();

        layer.InferenceFrozen = true;
        layer.Forward(bottoms, tops);
        Assert.True(layer.HasWinogradCache);
        for (int i = 0; i < 2; i++)
        {
            WinogradTests.AssertClose(expected[i], tops[i].Data.ToArray(), 1e-5);
        }
    }

    [Fact]
    public void Train_AndUnfrozen_NeverTakeTheFastPath()
    {
        var bottom = new[] { TestBlobs.Uniform(1701, 0f, 1f, 1, 16, 8, 8) };
        var top = new[] { new Blob() };
        var layer = Layer(16, 1, 1, true, 0.1f);
        layer.SetUp(bottom, top);
        layer.InferenceFrozen = true;
        layer.Phase = Phase.Train;
        layer.Forward(bottom, top);
        Assert.False(layer.HasWinogradCache);
        layer.Phase = Phase.Test;
        layer.Forward(bottom, top);
        Assert.True(layer.HasWinogradCache);
        layer.InferenceFrozen = false;
        layer.Forward(bottom, top);
        Assert.False(layer.HasWinogradCache);
    }

    [Fact]
    public void InvalidateInferenceCache_PicksUpWeightsChangedInPlace()
    {
        var bottom = new[] { TestBlobs.Uniform(1701, 0f, 1f, 1, 16, 8, 8) };
        var top = new[] { new Blob() };
        var layer = Layer(16, 1, 1, true, 0.1f);
        layer.SetUp(bottom, top);
        layer.InferenceFrozen = true;
        layer.Forward(bottom, top);
        layer.Blobs[0].ScaleData(2f);
        layer.InvalidateInferenceCache();
        layer.Forward(bottom, top);
        var frozen = top[0].Data.ToArray();
        layer.InferenceFrozen = false;
        layer.Forward(bottom, top);
        WinogradTests.AssertClose(top[0].Data.ToArray(), frozen, 1e-5);
    }

    [Fact]
    public void FewChannelLayers_KeepIm2Col()
    {
        var bottom = new[] { TestBlobs.Uniform(1701, 0f, 1f, 1, 3, 8, 8) };
        var top = new[] { new Blob() };
        var layer = Layer(16, 1, 1, true, 0.1f);
        layer.SetUp(bottom, top);
        layer.InferenceFrozen = true;
        layer.Forward(bottom, top);
        Assert.False(layer.HasWinogradCache);
    }

    private static ConvolutionLayer Layer(int numOutput, int pad, int group, bool bias, float std)
    {
        Rng.Seed(1701);
        var p = new ConvolutionParameter
        {
            NumOutput = (uint)numOutput, Group = (uint)group, BiasTerm = bias,
            WeightFiller = new FillerParameter { Type = "gaussian", Std = std },
            BiasFiller = new FillerParameter { Type = "gaussian", Std = 0.1f },
        };
        p.KernelSize.Add(3);
        p.Pad.Add((uint)pad);
        return new ConvolutionLayer(new LayerParameter { Name = "conv", Type = "Convolution", ConvolutionParam = p }) { Phase = Phase.Test };
    }
}
