using System.Numerics;

namespace Crema.Kernels;

/// <summary>
/// LRN's power step, s^−β for s &gt; 0 (s = k + α/n·Σx² ≥ k). TensorPrimitives.Pow runs one MathF.Pow per element
/// (GoogLeNet's conv2/norm2, 602,112 elements: 3.2 ms on Zen 5); these stay vectorised: β = 0.75 (every zoo net) as
/// 1/(√s·√√s), β = 0.5 and 1 directly, any other β as exp(−β·ln s). Tails go through the same vector code as the
/// body, so an element's value never depends on where a slice ends.
/// </summary>
internal static class LrnKernels
{
    /// <summary>y = s^−β.</summary>
    public static void NegativePower(ReadOnlySpan<float> s, float beta, Span<float> y)
    {
        switch (beta)
        {
            case 0.75f:
                Elementwise.Map(default(ThreeQuarters), s, y);
                break;
            case 0.5f:
                Elementwise.Map(default(Half), s, y);
                break;
            case 1f:
                Elementwise.Map(default(One), s, y);
                break;
            default:
                Elementwise.Map(new General(beta), s, y);
                break;
        }
    }

    /// <summary>y = x·s^−β (LRN's output from its input and scale).</summary>
    public static void ScaleByNegativePower(ReadOnlySpan<float> x, ReadOnlySpan<float> s, float beta, Span<float> y)
    {
        switch (beta)
        {
            case 0.75f:
                Elementwise.Map(new Times<ThreeQuarters>(default), x, s, y);
                break;
            case 0.5f:
                Elementwise.Map(new Times<Half>(default), x, s, y);
                break;
            case 1f:
                Elementwise.Map(new Times<One>(default), x, s, y);
                break;
            default:
                Elementwise.Map(new Times<General>(new General(beta)), x, s, y);
                break;
        }
    }

    private readonly struct ThreeQuarters : IUnaryOperator
    {
        public float Invoke(float s) => Invoke(new Vector<float>(s))[0];

        public Vector<float> Invoke(Vector<float> s)
        {
            var root = Vector.SquareRoot(s);
            return Vector<float>.One / (root * Vector.SquareRoot(root));
        }
    }

    private readonly struct Half : IUnaryOperator
    {
        public float Invoke(float s) => Invoke(new Vector<float>(s))[0];

        public Vector<float> Invoke(Vector<float> s) => Vector<float>.One / Vector.SquareRoot(s);
    }

    private readonly struct One : IUnaryOperator
    {
        public float Invoke(float s) => 1f / s;

        public Vector<float> Invoke(Vector<float> s) => Vector<float>.One / s;
    }

    private readonly struct General(float beta) : IUnaryOperator
    {
        public float Invoke(float s) => Invoke(new Vector<float>(s))[0];

        public Vector<float> Invoke(Vector<float> s) => Vector.Exp(Vector.Log(s) * -beta);
    }

    private readonly struct Times<TPower>(TPower power) : IBinaryOperator where TPower : struct, IUnaryOperator
    {
        public float Invoke(float x, float s) => x * power.Invoke(s);

        public Vector<float> Invoke(Vector<float> x, Vector<float> s) => x * power.Invoke(s);
    }
}
