using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>Element-wise kernels on spans long enough to be split across threads, against a scalar loop, in and out of place.</summary>
public class ElementwiseParallelTests
{
    [Theory]
    [InlineData(Elementwise.ParallelMinLength)]
    [InlineData(Elementwise.ParallelMinLength + 37)]
    [InlineData((3 * Elementwise.ParallelMinLength) + 1)]
    public void LongSpans_MatchScalarLoop(int n)
    {
        // NOTE: a blob's Data is native memory its finalizer frees; keep each blob alive until its copy is made.
        var xBlob = TestBlobs.Gaussian(1701, 1f, n);
        var dyBlob = TestBlobs.Gaussian(1702, 1f, n);
        var x = xBlob.Data.ToArray();
        var dy = dyBlob.Data.ToArray();
        GC.KeepAlive(xBlob);
        GC.KeepAlive(dyBlob);
        var y = new float[n];
        Activations.ReluForward(x, y, 0.1f);
        var dx = (float[])dy.Clone();
        Activations.ReluBackward(x, dx, dx, 0.1f); // in place: dx is dy
        for (int i = 0; i < n; i++)
        {
            float slope = x[i] > 0 ? 1f : 0.1f;
            if (y[i] != x[i] * slope || dx[i] != dy[i] * slope)
            {
                Assert.Fail($"element {i} of {n}: x {x[i]}, y {y[i]}, dx {dx[i]}");
            }
        }
    }
}
