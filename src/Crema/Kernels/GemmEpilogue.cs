using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Crema.Kernels;

/// <summary>
/// What a GEMM does to its result rows before they leave cache (a convolution's bias and fused activation):
/// C[i, j] = act(C[i, j] + bias[i]), act(v) = v &gt; 0 ? v : slope·v when <see cref="Activation"/>, else v. The same float
/// operations as <see cref="FusedActivations.BiasLeakyRelu"/> (or a plain bias add) in a pass of its own, so fusing it
/// changes no bit. bias may be null (no bias; then only the activation).
/// </summary>
internal readonly unsafe struct GemmEpilogue(float* bias, bool activation, float slope)
{
    private readonly float* _bias = bias;
    private readonly float _slope = slope;

    public bool Activation { get; } = activation;

    public bool Active => _bias != null || Activation;

    /// <summary>The same epilogue for the rows from <paramref name="first"/> on (one group of a grouped convolution).</summary>
    public GemmEpilogue FromRow(int first) => new(_bias == null ? null : _bias + first, Activation, _slope);

    /// <summary>Rows [0, rows) of C at c (row stride ldc; C row r is result row row0 + r), columns [0, cols).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(float* c, nint ldc, int row0, int rows, int cols)
    {
        if (!Active)
        {
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            float* row = c + (r * ldc);
            float b = _bias == null ? 0f : _bias[row0 + r];
            if (Activation)
            {
                BiasLeakyRelu(row, cols, b, _slope);
            }
            else
            {
                AddBias(row, cols, b);
            }
        }
    }

    private static void BiasLeakyRelu(float* row, int n, float bias, float slope)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vb = Vector256.Create(bias), vs = Vector256.Create(slope);
            for (; j + 8 <= n; j += 8)
            {
                Vector256<float> v = Vector256.Load(row + j) + vb;
                Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, v * vs).Store(row + j);
            }
        }
        for (; j < n; j++)
        {
            float v = row[j] + bias;
            row[j] = v > 0 ? v : slope * v;
        }
    }

    private static void AddBias(float* row, int n, float bias)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vb = Vector256.Create(bias);
            for (; j + 8 <= n; j += 8)
            {
                (Vector256.Load(row + j) + vb).Store(row + j);
            }
        }
        for (; j < n; j++)
        {
            row[j] += bias;
        }
    }
}
