using System.Numerics;

namespace Crema.Kernels;

/// <summary>
/// Inference epilogues that do in one pass what separate layers do in two: a convolution's bias add and a following
/// leaky ReLU, and an Eltwise sum and a following leaky ReLU. act(v) = v &gt; 0 ? v : slope·v (slope 0: plain ReLU).
/// Outputs may be the same memory as an input.
/// </summary>
internal static class FusedActivations
{
    /// <summary>y = act(x + bias): one channel row of a convolution output.</summary>
    public static void BiasLeakyRelu(ReadOnlySpan<float> x, float bias, Span<float> y, float negativeSlope) =>
        Elementwise.Map(new BiasLeakyReluOp(bias, negativeSlope), x, y);

    /// <summary>y = act(ca·a + cb·b): the last two terms of an Eltwise SUM.</summary>
    public static void ScaledSumLeakyRelu(ReadOnlySpan<float> a, float ca, ReadOnlySpan<float> b, float cb, Span<float> y, float negativeSlope) =>
        Elementwise.Map(new ScaledSumLeakyReluOp(ca, cb, negativeSlope), a, b, y);

    private readonly struct BiasLeakyReluOp(float bias, float slope) : IUnaryOperator
    {
        public float Invoke(float x)
        {
            float v = x + bias;
            return v > 0 ? v : slope * v;
        }

        public Vector<float> Invoke(Vector<float> x)
        {
            var v = x + new Vector<float>(bias);
            return Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), v, v * slope);
        }
    }

    private readonly struct ScaledSumLeakyReluOp(float ca, float cb, float slope) : IBinaryOperator
    {
        public float Invoke(float a, float b)
        {
            float v = (ca * a) + (cb * b);
            return v > 0 ? v : slope * v;
        }

        public Vector<float> Invoke(Vector<float> a, Vector<float> b)
        {
            var v = (a * ca) + (b * cb);
            return Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), v, v * slope);
        }
    }
}
