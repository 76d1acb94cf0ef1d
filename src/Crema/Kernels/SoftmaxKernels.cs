using System.Numerics.Tensors;

namespace Crema.Kernels;

/// <summary>Softmax over the middle axis of an (outer, channels, inner) array, numerically stable (the max is subtracted first).</summary>
public static class SoftmaxKernels
{
    // x, y: (outer, channels, inner); y may alias x.
    public static void Forward(int outer, int channels, int inner, ReadOnlySpan<float> x, Span<float> y)
    {
        int dim = channels * inner;
        if (dim == 0)
        {
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            var xs = x.Slice(o * dim, dim);
            var ys = y.Slice(o * dim, dim);
            if (inner == 1)
            {
                float max = TensorPrimitives.Max(xs);
                TensorPrimitives.Subtract(xs, max, ys);
                TensorPrimitives.Exp(ys, ys);
                TensorPrimitives.Divide(ys, TensorPrimitives.Sum(ys), ys);
                continue;
            }
            for (int i = 0; i < inner; i++)
            {
                float max = float.NegativeInfinity;
                for (int c = 0; c < channels; c++)
                {
                    max = Math.Max(max, xs[c * inner + i]);
                }
                float sum = 0;
                for (int c = 0; c < channels; c++)
                {
                    float e = MathF.Exp(xs[c * inner + i] - max);
                    ys[c * inner + i] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                for (int c = 0; c < channels; c++)
                {
                    ys[c * inner + i] *= inv;
                }
            }
        }
    }

    // dx = (dy − Σ_c dy·y) ⊙ y per (outer, inner) position; y, dy, dx: (outer, channels, inner); dx may alias dy.
    public static void Backward(int outer, int channels, int inner, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int dim = channels * inner;
        for (int o = 0; o < outer; o++)
        {
            var ys = y.Slice(o * dim, dim);
            var dys = dy.Slice(o * dim, dim);
            var dxs = dx.Slice(o * dim, dim);
            if (inner == 1)
            {
                float dot = TensorPrimitives.Dot(dys, ys);
                TensorPrimitives.Subtract(dys, dot, dxs);
                TensorPrimitives.Multiply(dxs, ys, dxs);
                continue;
            }
            for (int i = 0; i < inner; i++)
            {
                float dot = 0;
                for (int c = 0; c < channels; c++)
                {
                    dot += dys[c * inner + i] * ys[c * inner + i];
                }
                for (int c = 0; c < channels; c++)
                {
                    int k = c * inner + i;
                    dxs[k] = (dys[k] - dot) * ys[k];
                }
            }
        }
    }
}
