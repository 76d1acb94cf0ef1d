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
        { [1, 48, 18, 22], 16, 1, 1, true },
        { [3, 64, 12, 12], 24, 1, 1, true },
        { [2, 48, 15, 14], 48, 0, 1, false },
        { [1, 96, 17, 17], 48, 2, 2, true },
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
        var bottom = new[] { TestBlobs.Uniform(1701, 0f, 1f, 1, 48, 16, 20) };
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
        var bottom = new[] { TestBlobs.Uniform(1701, 0f, 1f, 1, 48, 16, 20) };
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
    public void WeightsRescaledInPlace_AreNoticedWithoutInvalidation()
    {
        var bottom = new[] { TestBlobs.Uniform(1701, 0f, 1f, 1, 48, 16, 20) };
        var top = new[] { new Blob() };
        var layer = Layer(16, 1, 1, true, 0.1f);
        layer.SetUp(bottom, top);
        layer.InferenceFrozen = true;
        layer.Forward(bottom, top);
        var before = top[0].Data.ToArray();
        layer.Blobs[0].ScaleData(-1f); // same buffer, every sampled value changes sign
        layer.Forward(bottom, top);
        var frozen = top[0].Data.ToArray();
        Assert.NotEqual(before, frozen);
        layer.InferenceFrozen = false;
        layer.Forward(bottom, top);
        WinogradTests.AssertClose(top[0].Data.ToArray(), frozen, 1e-5);
    }

    [Theory]
    [InlineData(1, 32, 16, 20)] // 32 channels: too few
    [InlineData(1, 64, 7, 7)]   // 4 tiles: too few
    [InlineData(4, 64, 5, 5)]   // 4 images × 4 tiles = 16: too few
    public void ShapesMeasuredSlower_KeepIm2Col(int num, int channels, int height, int width)
    {
        var bottom = new[] { TestBlobs.Uniform(1701, 0f, 1f, num, channels, height, width) };
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
