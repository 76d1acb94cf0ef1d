using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

/// <summary>Shared drivers for the neuron layer tests: run a layer, compare in place vs out of place, check gradients.</summary>
internal static class NeuronTestKit
{
    public static readonly int[] Shape = [2, 3, 4, 5];

    public static Blob Input(float std = 1f) => TestBlobs.Gaussian(1701, std, Shape);

    public static Layer Create(LayerParameter param) => LayerRegistry.Create(param);

    /// <summary>Sets up and runs one forward out of place; returns the top.</summary>
    public static Blob Forward(LayerParameter param, Blob bottom)
    {
        var layer = Create(param);
        var top = new Blob();
        layer.SetUp([bottom], [top]);
        Rng.Seed(1701);
        layer.Forward([bottom], [top]);
        return top;
    }

    /// <summary>Asserts y = reference(x) element by element.</summary>
    public static void AssertForward(LayerParameter param, Blob bottom, Func<float, float> reference, float tol = 1e-5f)
    {
        var top = Forward(param, bottom);
        Assert.Equal(bottom.Shape, top.Shape);
        var expected = bottom.Data.ToArray().Select(reference).ToArray();
        TestBlobs.AssertClose(expected, top.Data, tol);
    }

    /// <summary>Forward + backward with top == bottom must give the same y and dx as with separate blobs.</summary>
    public static void AssertInPlaceMatchesOutOfPlace(LayerParameter param, Blob input)
    {
        float[] dy = TestBlobs.Uniform(7, -1, 1, [.. input.Shape]).Data.ToArray();

        var bottom = Copy(input);
        var top = new Blob();
        var layer = Create(param);
        layer.SetUp([bottom], [top]);
        Rng.Seed(1701);
        layer.Forward([bottom], [top]);
        dy.CopyTo(top.Diff);
        layer.Backward([top], [true], [bottom]);

        var shared = Copy(input);
        var inPlace = Create(param);
        inPlace.SetUp([shared], [shared]);
        Rng.Seed(1701);
        inPlace.Forward([shared], [shared]);
        TestBlobs.AssertClose(top.Data, shared.Data, 1e-6f);
        dy.CopyTo(shared.Diff);
        inPlace.Backward([shared], [true], [shared]);
        TestBlobs.AssertClose(bottom.Diff, shared.Diff, 1e-6f);
    }

    /// <summary>Element-wise central-difference check (E = y_i against x_i), skipping |x| ≤ kinkRange around kink.</summary>
    public static void CheckElementwise(LayerParameter param, Blob bottom, float kink = 0, float kinkRange = -1, float threshold = 1e-3f)
    {
        var checker = new GradientChecker(1e-2f, threshold, 1701, kink, kinkRange);
        checker.CheckGradientElementwise(Create(param), [bottom], [new Blob()]);
    }

    public static Blob Copy(Blob source)
    {
        var blob = new Blob([.. source.Shape]);
        source.Data.CopyTo(blob.Data);
        return blob;
    }
}
