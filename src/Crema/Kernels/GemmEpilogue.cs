using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Crema.Kernels;

/// <summary>
/// What a GEMM does to its result rows before they leave cache (a convolution's bias, a residual sum and a fused
/// activation): C[i, j] = act(C[i, j] + bias[i] + R[i, j]), act(v) = v &gt; 0 ? v : slope·v when <see cref="Activation"/>,
/// else v. The same float operations, in the same order, as the bias pass, the Eltwise SUM and the ReLU layer one after
/// another, so fusing them changes no bit. bias may be null (no bias); R (a residual, laid out as C: same row stride) is
/// optional, given as its distance from C so every tile finds its own part of it.
/// </summary>
internal readonly unsafe struct GemmEpilogue
{
    private readonly float* _bias;
    private readonly float _slope;
    // R[i, j] is at &C[i, j] + _residualOffset (floats); meaningful only when _hasResidual.
    private readonly nint _residualOffset;
    private readonly bool _hasResidual;

    public GemmEpilogue(float* bias, bool activation, float slope)
    {
        _bias = bias;
        Activation = activation;
        _slope = slope;
    }

    /// <param name="bias">Per-row bias, or null.</param>
    /// <param name="activation">Whether to apply the leaky ReLU last.</param>
    /// <param name="slope">The leaky ReLU's negative slope.</param>
    /// <param name="c">The start of C as the GEMM writes it.</param>
    /// <param name="residual">The start of R, laid out as C (null: no residual).</param>
    public GemmEpilogue(float* bias, bool activation, float slope, float* c, float* residual) : this(bias, activation, slope)
    {
        _hasResidual = residual != null;
        _residualOffset = _hasResidual ? (nint)(residual - c) : 0;
    }

    private GemmEpilogue(float* bias, bool activation, float slope, nint residualOffset, bool hasResidual) : this(bias, activation, slope)
    {
        _residualOffset = residualOffset;
        _hasResidual = hasResidual;
    }

    public bool Activation { get; }

    public bool Active => _bias != null || Activation || _hasResidual;

    /// <summary>The same epilogue for the rows from <paramref name="first"/> on (one group of a grouped convolution).</summary>
    public GemmEpilogue FromRow(int first) => new(_bias == null ? null : _bias + first, Activation, _slope, _residualOffset, _hasResidual);

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
            if (_hasResidual)
            {
                BiasResidualLeakyRelu(row, row + _residualOffset, cols, b, Activation, _slope);
            }
            else if (Activation)
            {
                BiasLeakyRelu(row, cols, b, _slope);
            }
            else
            {
                AddBias(row, cols, b);
            }
        }
    }

    // row[j] = act((row[j] + bias) + residual[j]): the bias pass, then the sum, then the activation, each rounded as the
    // separate layers round them.
    private static void BiasResidualLeakyRelu(float* row, float* residual, int n, float bias, bool activation, float slope)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vb = Vector256.Create(bias), vs = Vector256.Create(activation ? slope : 1f);
            for (; j + 8 <= n; j += 8)
            {
                Vector256<float> v = (Vector256.Load(row + j) + vb) + Vector256.Load(residual + j);
                Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, v * vs).Store(row + j);
            }
        }
        for (; j < n; j++)
        {
            float v = (row[j] + bias) + residual[j];
            row[j] = v > 0 || !activation ? v : slope * v;
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
