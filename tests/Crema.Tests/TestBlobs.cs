namespace Crema.Tests;

/// <summary>Seeded blobs and tolerant comparisons shared by the tests.</summary>
internal static class TestBlobs
{
    // A blob's native memory is freed by its finalizer once the blob is unreachable, even while a Span over it is still
    // being read: `TestBlobs.Gaussian(...).Data.ToArray()` leaves the blob unreachable during the copy (GC pressure from
    // parallel test classes once gave an AccessViolation and sums of 1e17). The last 256 blobs made here stay referenced,
    // so such one-expression uses are safe without a GC.KeepAlive at each of the ~45 call sites.
    private static readonly Blob?[] s_recent = new Blob?[256];
    private static int s_next;

    private static Blob Keep(Blob blob)
    {
        s_recent[Interlocked.Increment(ref s_next) & (s_recent.Length - 1)] = blob;
        return blob;
    }

    public static Blob Gaussian(int seed, float std, params int[] shape)
    {
        var blob = Keep(new Blob(shape));
        var random = new Random(seed);
        var data = blob.Data;
        for (int i = 0; i < data.Length; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            data[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return blob;
    }

    public static Blob Uniform(int seed, float min, float max, params int[] shape)
    {
        var blob = Keep(new Blob(shape));
        var random = new Random(seed);
        var data = blob.Data;
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)(min + (max - min) * random.NextDouble());
        }
        return blob;
    }

    public static Blob FromValues(int[] shape, params float[] values)
    {
        var blob = Keep(new Blob(shape));
        values.CopyTo(blob.Data);
        return blob;
    }

    /// <summary>Asserts |e − a| ≤ tol·max(1, |e|) elementwise, naming the first bad index.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tol = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float scale = Math.Max(1f, Math.Abs(expected[i]));
            if (!(Math.Abs(expected[i] - actual[i]) <= tol * scale))
            {
                Assert.Fail($"index {i}: expected {expected[i]}, got {actual[i]} (tol {tol})");
            }
        }
    }
}
