using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>Each SIMD kernel against a naive scalar twin at every length 0..256 (vector body + every tail), also in place.</summary>
public class ActivationsTests
{
    public static TheoryData<string> Kernels =>
    [
        "Affine", "Relu", "LeakyRelu", "ReluGrad", "Elu", "EluGrad", "SigmoidGrad", "TanhGrad", "AbsGrad",
        "LogGrad", "Bnll", "BnllGrad", "Threshold", "ClipGrad", "SwishGrad",
    ];

    // (kernel under test, naive twin) over inputs a, b, c → output; outputs may alias input a.
    private static (Action<float[], float[], float[], Span<float>> Fast, Func<float, float, float, float> Naive) Get(string name) => name switch
    {
        "Affine" => ((a, _, _, y) => Activations.Affine(a, y, 0.7f, -0.3f), (a, _, _) => 0.7f * a - 0.3f),
        "Relu" => ((a, _, _, y) => Activations.ReluForward(a, y, 0), (a, _, _) => a > 0 ? a : 0),
        "LeakyRelu" => ((a, _, _, y) => Activations.ReluForward(a, y, -0.2f), (a, _, _) => a > 0 ? a : -0.2f * a),
        "ReluGrad" => ((a, b, _, y) => Activations.ReluBackward(b, a, y, 0.1f), (a, b, _) => b > 0 ? a : 0.1f * a),
        "Elu" => ((a, _, _, y) => Activations.EluForward(a, y, 0.5f), (a, _, _) => a > 0 ? a : 0.5f * (MathF.Exp(a) - 1)),
        "EluGrad" => ((a, b, c, y) => Activations.EluBackward(b, c, a, y, 0.5f), (a, b, c) => b > 0 ? a : a * (c + 0.5f)),
        "SigmoidGrad" => ((a, b, _, y) => Activations.SigmoidBackward(b, a, y), (a, b, _) => a * b * (1 - b)),
        "TanhGrad" => ((a, b, _, y) => Activations.TanhBackward(b, a, y), (a, b, _) => a * (1 - b * b)),
        "AbsGrad" => ((a, b, _, y) => Activations.AbsBackward(b, a, y), (a, b, _) => a * MathF.Sign(b)),
        "LogGrad" => ((a, b, _, y) => Activations.LogBackward(b, a, y, 1.5f, 0.5f, 3f), (a, b, _) => a * 1.5f / (3f + 0.5f * b)),
        "Bnll" => ((a, _, _, y) => Activations.BnllForward(a, y), (a, _, _) => (float)Math.Log(1 + Math.Exp(a))),
        "BnllGrad" => ((a, b, _, y) => Activations.BnllBackward(b, a, y), (a, b, _) => (float)(a / (1 + Math.Exp(-b)))),
        "Threshold" => ((a, _, _, y) => Activations.ThresholdForward(a, y, 0.1f), (a, _, _) => a > 0.1f ? 1 : 0),
        "ClipGrad" => ((a, b, _, y) => Activations.ClipBackward(b, a, y, -0.5f, 0.5f), (a, b, _) => b is >= -0.5f and <= 0.5f ? a : 0),
        "SwishGrad" => ((a, b, c, y) => Activations.SwishBackward(b, c, a, y, 1.5f), (a, b, c) => a * (1.5f * b + c * (1 - 1.5f * b))),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Kernel_MatchesNaive_AtEveryLength(string name)
    {
        var (fast, naive) = Get(name);
        for (int n = 0; n <= 256; n++)
        {
            float[] a = Values(n, 1), b = Values(n, 2), c = Values(n, 3);
            // Put exact kinks in (0 and the bounds) to pin down the ≤ / < choices.
            if (n > 3)
            {
                b[1] = 0;
                b[2] = 0.5f;
                a[3] = 0;
            }
            var expected = new float[n];
            for (int i = 0; i < n; i++)
            {
                expected[i] = naive(a[i], b[i], c[i]);
            }
            var y = new float[n];
            fast(a, b, c, y);
            TestBlobs.AssertClose(expected, y, 1e-5f);

            // In place: the output is input a.
            fast(a, b, c, a);
            TestBlobs.AssertClose(expected, a, 1e-5f);
        }
    }

    [Fact]
    public void NegativePartDot_MatchesNaive_AtEveryLength()
    {
        for (int n = 0; n <= 256; n++)
        {
            float[] x = Values(n, 4), dy = Values(n, 5);
            double expected = 0;
            for (int i = 0; i < n; i++)
            {
                expected += Math.Min(x[i], 0) * (double)dy[i];
            }
            Assert.Equal(expected, Activations.NegativePartDot(x, dy), 1e-4);
        }
    }

    [Fact]
    public void LengthMismatch_Throws() =>
        Assert.Throws<ArgumentException>(() => Activations.ReluForward(new float[3], new float[4], 0));

    private static float[] Values(int n, int seed)
    {
        var r = new Random(seed * 1000 + n);
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (float)(r.NextDouble() * 6 - 3);
        }
        return v;
    }
}
