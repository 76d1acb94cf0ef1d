using Crema.Proto;

namespace Crema.Tests.Layers;

/// <summary>Naive per-timestep, per-element references (in double) for the recurrent layers, and shared fixtures.</summary>
internal static class RecurrentReference
{
    public const int T = 3, N = 2, D = 3;

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>One LSTM cell step for stream n: returns (c, h) from c_prev (D), pre-activations (4D) in (i, f, o, g) order.</summary>
    public static (double[] C, double[] H) LstmCell(double[] cPrev, double[] pre, double cont)
    {
        int d = cPrev.Length;
        var c = new double[d];
        var h = new double[d];
        for (int j = 0; j < d; j++)
        {
            double i = Sigmoid(pre[j]), f = Sigmoid(pre[d + j]), o = Sigmoid(pre[2 * d + j]), g = Math.Tanh(pre[3 * d + j]);
            c[j] = cont * f * cPrev[j] + i * g;
            h[j] = o * Math.Tanh(c[j]);
        }
        return (c, h);
    }

    // Row r of W (rows, cols) times v.
    private static double Dot(ReadOnlySpan<float> w, int r, int cols, ReadOnlySpan<float> v, int offset)
    {
        double s = 0;
        for (int k = 0; k < cols; k++)
        {
            s += (double)w[r * cols + k] * v[offset + k];
        }
        return s;
    }

    private static double Dot(ReadOnlySpan<float> w, int r, double[] v)
    {
        double s = 0;
        for (int k = 0; k < v.Length; k++)
        {
            s += w[r * v.Length + k] * v[k];
        }
        return s;
    }

    /// <summary>
    /// LSTM: returns h (T·N·D) and the final (h, c). Blobs in Caffe's order: W_xc, b_c, [W_xc_static], W_hc.
    /// h0/c0 (N·D) null means zeros.
    /// </summary>
    public static (double[] H, double[] HT, double[] CT) Lstm(IReadOnlyList<Blob> blobs, Blob x, Blob cont, Blob? xStatic, Blob? h0, Blob? c0, int d)
    {
        int t = x.ShapeAt(0), n = x.ShapeAt(1), inDim = x.CountFrom(2);
        var wx = blobs[0].Data.ToArray();
        var b = blobs[1].Data.ToArray();
        var wh = blobs[xStatic is null ? 2 : 3].Data.ToArray();
        var output = new double[t * n * d];
        var hT = new double[n * d];
        var cT = new double[n * d];
        for (int s = 0; s < n; s++)
        {
            var h = h0 is null ? new double[d] : h0.Data.Slice(s * d, d).ToArray().Select(v => (double)v).ToArray();
            var c = c0 is null ? new double[d] : c0.Data.Slice(s * d, d).ToArray().Select(v => (double)v).ToArray();
            for (int step = 0; step < t; step++)
            {
                double k = cont.Data[step * n + s];
                var hc = h.Select(v => k * v).ToArray();
                var pre = new double[4 * d];
                for (int r = 0; r < 4 * d; r++)
                {
                    pre[r] = b[r] + Dot(wx, r, inDim, x.Data, (step * n + s) * inDim) + Dot(wh, r, hc);
                    if (xStatic is not null)
                    {
                        pre[r] += Dot(blobs[2].Data, r, xStatic.CountFrom(1), xStatic.Data, s * xStatic.CountFrom(1));
                    }
                }
                (c, h) = LstmCell(c, pre, k);
                Array.Copy(h, 0, output, (step * n + s) * d, d);
            }
            Array.Copy(h, 0, hT, s * d, d);
            Array.Copy(c, 0, cT, s * d, d);
        }
        return (output, hT, cT);
    }

    /// <summary>RNN: returns o (T·N·D) and the final h. Blobs: W_xh, b_h, [W_xh_static], W_hh, W_ho, b_o.</summary>
    public static (double[] O, double[] HT) Rnn(IReadOnlyList<Blob> blobs, Blob x, Blob cont, Blob? xStatic, Blob? h0, int d)
    {
        int t = x.ShapeAt(0), n = x.ShapeAt(1), inDim = x.CountFrom(2);
        int w = xStatic is null ? 2 : 3;
        var wx = blobs[0].Data.ToArray();
        var bh = blobs[1].Data.ToArray();
        var whh = blobs[w].Data.ToArray();
        var who = blobs[w + 1].Data.ToArray();
        var bo = blobs[w + 2].Data.ToArray();
        var output = new double[t * n * d];
        var hT = new double[n * d];
        for (int s = 0; s < n; s++)
        {
            var h = h0 is null ? new double[d] : h0.Data.Slice(s * d, d).ToArray().Select(v => (double)v).ToArray();
            for (int step = 0; step < t; step++)
            {
                double k = cont.Data[step * n + s];
                var hc = h.Select(v => k * v).ToArray();
                var next = new double[d];
                for (int r = 0; r < d; r++)
                {
                    double a = bh[r] + Dot(wx, r, inDim, x.Data, (step * n + s) * inDim) + Dot(whh, r, hc);
                    if (xStatic is not null)
                    {
                        a += Dot(blobs[2].Data, r, xStatic.CountFrom(1), xStatic.Data, s * xStatic.CountFrom(1));
                    }
                    next[r] = Math.Tanh(a);
                }
                h = next;
                for (int r = 0; r < d; r++)
                {
                    output[(step * n + s) * d + r] = Math.Tanh(bo[r] + Dot(who, r, h));
                }
            }
            Array.Copy(h, 0, hT, s * d, d);
        }
        return (output, hT);
    }

    public static LayerParameter Param(string type, int numOutput = D, bool exposeHidden = false) => new()
    {
        Name = type.ToLowerInvariant(),
        Type = type,
        RecurrentParam = new RecurrentParameter
        {
            NumOutput = (uint)numOutput,
            ExposeHidden = exposeHidden,
            WeightFiller = new FillerParameter { Type = "gaussian", Std = 0.5f },
            BiasFiller = new FillerParameter { Type = "gaussian", Std = 0.3f },
        },
    };

    /// <summary>cont (T, N): stream 0 starts at t = 0 (or continues the given state when <paramref name="continueAtStart"/>),
    /// stream 1 starts at t = 0 and restarts at t = 2.</summary>
    public static Blob Cont(bool continueAtStart = false) =>
        TestBlobs.FromValues([T, N], continueAtStart ? 1 : 0, 0, 1, 1, 1, 0);

    /// <summary>Bottoms x (T, N, 2, 2), cont, [x_static (N, 1, 2)], [initial states (1, N, D) × states].</summary>
    public static List<Blob> Bottoms(bool staticInput, int exposedStates)
    {
        var bottom = new List<Blob> { TestBlobs.Gaussian(1701, 1f, T, N, 2, 2), Cont(continueAtStart: exposedStates > 0) };
        if (staticInput)
        {
            bottom.Add(TestBlobs.Gaussian(1702, 1f, N, 1, 2));
        }
        for (int k = 0; k < exposedStates; k++)
        {
            bottom.Add(TestBlobs.Gaussian(1703 + k, 0.8f, 1, N, D));
        }
        return bottom;
    }

    public static List<Blob> Tops(int count) => Enumerable.Range(0, count).Select(_ => new Blob()).ToList();

    public static void AssertClose(double[] expected, ReadOnlySpan<float> actual, float tol = 1e-5f) =>
        TestBlobs.AssertClose(expected.Select(v => (float)v).ToArray(), actual, tol);
}
