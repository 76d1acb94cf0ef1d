using System.Numerics;

namespace Crema.Kernels;

/// <summary>
/// Element-wise forward and backward kernels of the neuron layers. x: layer input, y: layer output, dy: gradient w.r.t. y,
/// dx: gradient w.r.t. x; all the same length. Any output may be the same memory as an input (in-place layers).
/// </summary>
internal static class Activations
{
    /// <summary>y = scale·x + shift.</summary>
    public static void Affine(ReadOnlySpan<float> x, Span<float> y, float scale, float shift) =>
        Elementwise.Map(new AffineOp(scale, shift), x, y);

    /// <summary>y = x &gt; 0 ? x : slope·x (leaky ReLU; slope 0 is plain ReLU).</summary>
    public static void ReluForward(ReadOnlySpan<float> x, Span<float> y, float negativeSlope) =>
        Elementwise.Map(new LeakyRelu(negativeSlope), x, y);

    /// <summary>dx = x &gt; 0 ? dy : slope·dy.</summary>
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float negativeSlope) =>
        Elementwise.Map(new LeakyReluGrad(negativeSlope), x, dy, dx);

    /// <summary>Σ dy·min(x, 0): the gradient of a PReLU slope over the elements it applies to.</summary>
    public static float NegativePartDot(ReadOnlySpan<float> x, ReadOnlySpan<float> dy)
    {
        if (x.Length != dy.Length)
        {
            throw new ArgumentException($"NegativePartDot: lengths {x.Length} and {dy.Length} differ");
        }
        int i = 0, w = Vector<float>.Count;
        var acc = Vector<float>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= x.Length - w; i += w)
            {
                acc += Vector.Min(new Vector<float>(x[i..]), Vector<float>.Zero) * new Vector<float>(dy[i..]);
            }
        }
        float sum = Vector.Sum(acc);
        for (; i < x.Length; i++)
        {
            sum += MathF.Min(x[i], 0) * dy[i];
        }
        return sum;
    }

    /// <summary>y = x &gt; 0 ? x : α·(eˣ − 1).</summary>
    public static void EluForward(ReadOnlySpan<float> x, Span<float> y, float alpha) => Elementwise.Map(new Elu(alpha), x, y);

    /// <summary>dx = x &gt; 0 ? dy : dy·(y + α), since d/dx α(eˣ − 1) = y + α.</summary>
    public static void EluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float alpha) =>
        Elementwise.Map(new EluGrad(alpha), x, y, dy, dx);

    /// <summary>dx = dy·y·(1 − y), y = σ(x).</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Elementwise.Map(default(SigmoidGrad), y, dy, dx);

    /// <summary>dx = dy·(1 − y²), y = tanh(x).</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Elementwise.Map(default(TanhGrad), y, dy, dx);

    /// <summary>dx = sign(x)·dy, with sign(0) = 0.</summary>
    public static void AbsBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) =>
        Elementwise.Map(default(SignTimes), x, dy, dx);

    /// <summary>dx = dy·k / (shift + scale·x): the gradient of k/scale · ln(shift + scale·x).</summary>
    public static void LogBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float k, float scale, float shift) =>
        Elementwise.Map(new LogGrad(k, scale, shift), x, dy, dx);

    /// <summary>y = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|) so large |x| neither overflows nor loses x.</summary>
    public static void BnllForward(ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(default(Bnll), x, y);

    /// <summary>dx = dy·e/(1 + e) with e = exp(min(x, 50)), i.e. dy·σ(x), as Caffe clamps it.</summary>
    public static void BnllBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) =>
        Elementwise.Map(default(BnllGrad), x, dy, dx);

    /// <summary>y = x &gt; threshold ? 1 : 0.</summary>
    public static void ThresholdForward(ReadOnlySpan<float> x, Span<float> y, float threshold) =>
        Elementwise.Map(new Step(threshold), x, y);

    /// <summary>dx = min ≤ x ≤ max ? dy : 0 (Caffe passes the gradient on the bounds too).</summary>
    public static void ClipBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float min, float max) =>
        Elementwise.Map(new ClipGrad(min, max), x, dy, dx);

    /// <summary>dx = dy·(β·y + s·(1 − β·y)) for y = x·s, s = σ(β·x).</summary>
    public static void SwishBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> s, ReadOnlySpan<float> dy, Span<float> dx, float beta) =>
        Elementwise.Map(new SwishGrad(beta), y, s, dy, dx);

    private readonly struct AffineOp(float scale, float shift) : IUnaryOperator
    {
        public float Invoke(float x) => scale * x + shift;

        public Vector<float> Invoke(Vector<float> x) => x * scale + new Vector<float>(shift);
    }

    private readonly struct LeakyRelu(float slope) : IUnaryOperator
    {
        public float Invoke(float x) => x > 0 ? x : slope * x;

        public Vector<float> Invoke(Vector<float> x) => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, x * slope);
    }

    private readonly struct LeakyReluGrad(float slope) : IBinaryOperator
    {
        public float Invoke(float x, float dy) => x > 0 ? dy : slope * dy;

        public Vector<float> Invoke(Vector<float> x, Vector<float> dy) =>
            Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), dy, dy * slope);
    }

    private readonly struct Elu(float alpha) : IUnaryOperator
    {
        public float Invoke(float x) => x > 0 ? x : alpha * (MathF.Exp(x) - 1);

        // NOTE: the exp branch is computed for all lanes; inf for large x is discarded by the select.
        public Vector<float> Invoke(Vector<float> x) =>
            Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, alpha * (Vector.Exp(Vector.Min(x, Vector<float>.Zero)) - Vector<float>.One));
    }

    private readonly struct EluGrad(float alpha) : ITernaryOperator
    {
        public float Invoke(float x, float y, float dy) => x > 0 ? dy : dy * (y + alpha);

        public Vector<float> Invoke(Vector<float> x, Vector<float> y, Vector<float> dy) =>
            Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), dy, dy * (y + new Vector<float>(alpha)));
    }

    private readonly struct SigmoidGrad : IBinaryOperator
    {
        public float Invoke(float y, float dy) => dy * y * (1 - y);

        public Vector<float> Invoke(Vector<float> y, Vector<float> dy) => dy * y * (Vector<float>.One - y);
    }

    private readonly struct TanhGrad : IBinaryOperator
    {
        public float Invoke(float y, float dy) => dy * (1 - y * y);

        public Vector<float> Invoke(Vector<float> y, Vector<float> dy) => dy * (Vector<float>.One - y * y);
    }

    private readonly struct SignTimes : IBinaryOperator
    {
        public float Invoke(float x, float dy) => x > 0 ? dy : x < 0 ? -dy : 0;

        public Vector<float> Invoke(Vector<float> x, Vector<float> dy) =>
            Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), dy,
                Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -dy, Vector<float>.Zero));
    }

    private readonly struct LogGrad(float k, float scale, float shift) : IBinaryOperator
    {
        public float Invoke(float x, float dy) => dy * k / (shift + scale * x);

        public Vector<float> Invoke(Vector<float> x, Vector<float> dy) => dy * k / (new Vector<float>(shift) + x * scale);
    }

    private readonly struct Bnll : IUnaryOperator
    {
        public float Invoke(float x) => MathF.Max(x, 0) + MathF.Log(1 + MathF.Exp(-MathF.Abs(x)));

        public Vector<float> Invoke(Vector<float> x) =>
            Vector.Max(x, Vector<float>.Zero) + Vector.Log(Vector<float>.One + Vector.Exp(-Vector.Abs(x)));
    }

    private readonly struct BnllGrad : IBinaryOperator
    {
        private const float Clamp = 50;

        public float Invoke(float x, float dy)
        {
            float e = MathF.Exp(MathF.Min(x, Clamp));
            return dy * e / (e + 1);
        }

        public Vector<float> Invoke(Vector<float> x, Vector<float> dy)
        {
            var e = Vector.Exp(Vector.Min(x, new Vector<float>(Clamp)));
            return dy * e / (e + Vector<float>.One);
        }
    }

    private readonly struct Step(float threshold) : IUnaryOperator
    {
        public float Invoke(float x) => x > threshold ? 1 : 0;

        public Vector<float> Invoke(Vector<float> x) =>
            Vector.ConditionalSelect(Vector.GreaterThan(x, new Vector<float>(threshold)), Vector<float>.One, Vector<float>.Zero);
    }

    private readonly struct ClipGrad(float min, float max) : IBinaryOperator
    {
        public float Invoke(float x, float dy) => x >= min && x <= max ? dy : 0;

        public Vector<float> Invoke(Vector<float> x, Vector<float> dy) =>
            Vector.ConditionalSelect(
                Vector.GreaterThanOrEqual(x, new Vector<float>(min)) & Vector.LessThanOrEqual(x, new Vector<float>(max)),
                dy, Vector<float>.Zero);
    }

    private readonly struct SwishGrad(float beta) : ITernaryOperator
    {
        public float Invoke(float y, float s, float dy) => dy * (beta * y + s * (1 - beta * y));

        public Vector<float> Invoke(Vector<float> y, Vector<float> s, Vector<float> dy)
        {
            var by = y * beta;
            return dy * (by + s * (Vector<float>.One - by));
        }
    }
}
