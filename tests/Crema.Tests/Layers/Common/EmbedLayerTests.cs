using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class EmbedLayerTests
{
    private const int InputDim = 10, NumOutput = 4;

    private static LayerParameter Param(bool bias = true) => new()
    {
        Name = "embed",
        Type = "Embed",
        EmbedParam = new EmbedParameter
        {
            NumOutput = NumOutput,
            InputDim = InputDim,
            BiasTerm = bias,
            WeightFiller = new FillerParameter { Type = "uniform", Min = -10, Max = 10 },
            BiasFiller = new FillerParameter { Type = "uniform", Min = -10, Max = 10 },
        },
    };

    // Caffe's test: bottom 4x1x1x1 of random integers in [0, input_dim).
    private static Blob Indices(int seed, params int[] shape)
    {
        var blob = new Blob(shape);
        var random = new Random(seed);
        for (int i = 0; i < blob.Count; i++)
        {
            blob.Data[i] = random.Next(InputDim);
        }
        return blob;
    }

    [Theory]
    [InlineData(true, new[] { 4, 1, 1, 1 })]
    [InlineData(false, new[] { 4, 1, 1, 1 })]
    [InlineData(true, new[] { 3, 5 })]
    public void Forward_MatchesReference(bool bias, int[] shape)
    {
        var x = Indices(1701, shape);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param(bias));
        Rng.Seed(5);
        layer.SetUp([x], [top]);
        layer.Forward([x], [top]);
        Assert.Equal([.. shape, NumOutput], top.Shape);
        Assert.Equal([InputDim, NumOutput], layer.Blobs[0].Shape);
        for (int i = 0; i < x.Count; i++)
        {
            int index = (int)x.Data[i];
            for (int j = 0; j < NumOutput; j++)
            {
                float expected = layer.Blobs[0].Data[index * NumOutput + j] + (bias ? layer.Blobs[1].Data[j] : 0);
                Assert.Equal(expected, top.Data[i * NumOutput + j]);
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Backward_MatchesNumericGradient(bool bias)
    {
        Rng.Seed(5);
        // Repeated indices (12 draws from 10) check that gradient rows accumulate. checkBottom = 1 names no bottom: parameters only.
        var layer = LayerRegistry.Create(Param(bias));
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [Indices(3, 12)], [new Blob()], checkBottom: 1);
    }

    [Fact]
    public void Backward_ToIndices_Throws()
    {
        var x = Indices(1701, 4);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param());
        layer.SetUp([x], [top]);
        layer.Forward([x], [top]);
        Assert.False(layer.AllowForceBackward(0));
        var e = Assert.Throws<CremaException>(() => layer.Backward([top], [true], [x]));
        Assert.Contains("'embed'", e.Message);
    }

    [Theory]
    [InlineData(10f)]
    [InlineData(-1f)]
    [InlineData(2.5f)]
    public void BadIndex_ThrowsNamingTheValue(float bad)
    {
        var x = Indices(1701, 4);
        x.Data[2] = bad;
        var layer = LayerRegistry.Create(Param());
        layer.SetUp([x], [new Blob()]);
        var e = Assert.Throws<CremaException>(() => layer.Forward([x], [new Blob()]));
        Assert.Contains("'embed'", e.Message);
        Assert.Contains($"bottom element 2 is {bad.ToString(System.Globalization.CultureInfo.InvariantCulture)}", e.Message);
        Assert.Contains("input_dim = 10", e.Message);
    }

    [Fact]
    public void BadParameters_Throw()
    {
        var p = Param();
        p.EmbedParam.InputDim = 0;
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(p).SetUp([Indices(1, 4)], [new Blob()]));
        Assert.Contains("'embed'", e.Message);
        Assert.Contains("input_dim must be > 0, got 0", e.Message);
        p = Param();
        p.EmbedParam.NumOutput = 0;
        e = Assert.Throws<CremaException>(() => LayerRegistry.Create(p).SetUp([Indices(1, 4)], [new Blob()]));
        Assert.Contains("num_output must be > 0, got 0", e.Message);
    }
}
