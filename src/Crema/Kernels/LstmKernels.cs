using System.Numerics.Tensors;

namespace Crema.Kernels;

/// <summary>
/// One LSTM cell step, shared by the LSTMUnit and LSTM layers. Gates come in Caffe's order (i, f, o, g):
/// i, f, o = σ(·), g = tanh(·); c = (cont·f)·c_prev + i·g; h = o·tanh(c).
/// </summary>
internal static class LstmKernels
{
    /// <summary>
    /// c_prev, c, h: (n, d); gates (pre-activations) and acts (their activations): (n, 4d); cont: (n).
    /// </summary>
    public static void UnitForward(int n, int d, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> gates, ReadOnlySpan<float> cont,
        Span<float> acts, Span<float> c, Span<float> h)
    {
        int d3 = 3 * d, d4 = 4 * d;
        for (int s = 0; s < n; s++)
        {
            var x = gates.Slice(s * d4, d4);
            var a = acts.Slice(s * d4, d4);
            TensorPrimitives.Sigmoid(x[..d3], a[..d3]);
            TensorPrimitives.Tanh(x[d3..], a[d3..]);
            float k = cont[s];
            var cp = cPrev.Slice(s * d, d);
            var cs = c.Slice(s * d, d);
            var hs = h.Slice(s * d, d);
            for (int j = 0; j < d; j++)
            {
                // NOTE: Caffe scales the forget gate by cont (f' = cont·f), so a new sequence (cont 0) forgets c_prev entirely.
                float cj = k * a[d + j] * cp[j] + a[j] * a[d3 + j];
                cs[j] = cj;
                hs[j] = a[2 * d + j] * MathF.Tanh(cj);
            }
        }
    }

    /// <summary>
    /// Gradients of one cell step. dc (top diff of c, or empty for none) and dh: (n, d); dcPrev: (n, d), may alias dc;
    /// dGates (w.r.t. the pre-activations): (n, 4d). The other arguments are as in <see cref="UnitForward"/>.
    /// </summary>
    public static void UnitBackward(int n, int d, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> acts, ReadOnlySpan<float> c,
        ReadOnlySpan<float> cont, ReadOnlySpan<float> dc, ReadOnlySpan<float> dh, Span<float> dcPrev, Span<float> dGates)
    {
        int d3 = 3 * d, d4 = 4 * d;
        for (int s = 0; s < n; s++)
        {
            var a = acts.Slice(s * d4, d4);
            var dg = dGates.Slice(s * d4, d4);
            float k = cont[s];
            for (int j = 0; j < d; j++)
            {
                int idx = s * d + j;
                float i = a[j], f = a[d + j], o = a[2 * d + j], g = a[d3 + j];
                float tc = MathF.Tanh(c[idx]);
                float dhj = dh[idx];
                // total dE/dc: from the c top and through h = o·tanh(c)
                float dcj = (dc.IsEmpty ? 0f : dc[idx]) + dhj * o * (1 - tc * tc);
                float cp = cPrev[idx];
                dcPrev[idx] = dcj * k * f;
                dg[j] = dcj * g * i * (1 - i);
                dg[d + j] = dcj * k * cp * f * (1 - f);
                dg[2 * d + j] = dhj * tc * o * (1 - o);
                dg[d3 + j] = dcj * i * (1 - g * g);
            }
        }
    }
}
