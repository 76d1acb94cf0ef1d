using System.Numerics.Tensors;
using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Elman RNN over T steps: h_t = tanh(W_xh·x_t + b_h [+ W_xh_static·x_static] + W_hh·(cont_t·h_{t-1})); o_t = tanh(W_ho·h_t + b_o).
/// Top o (T, N, D). Learnable blobs: W_xh (D, I), b_h (D), [W_xh_static (D, S)], W_hh (D, D), W_ho (D, D), b_o (D).
/// </summary>
[LayerType("RNN")]
public sealed class RNNLayer(LayerParameter param) : RecurrentLayer(param)
{
    private readonly Blob _h = new();          // (T, N, D)
    private readonly Blob _o = new();          // (T, N, D) kept apart from the top, which a later in-place layer may overwrite
    private readonly Blob _hConted = new();    // (T, N, D) cont_t·h_{t-1}
    private readonly Blob _staticPre = new();  // (N, D)
    private readonly Blob _dh = new();         // (T, N, D) dE/dh, then in place dE/d(pre-activation)
    private readonly Blob _do = new();         // (T, N, D) dE/d(W_ho·h + b_o)
    private readonly Blob _dhc = new();        // (N, D)

    protected override int StateCount => 1;

    private int StaticIndex => HasStaticInput ? 2 : -1;
    private int Whh => HasStaticInput ? 3 : 2;
    private int Who => Whh + 1;
    private int Bo => Whh + 2;

    protected override IReadOnlyList<(string Name, int[] Shape, bool IsBias)> ParamSpecs()
    {
        var specs = new List<(string, int[], bool)> { ("W_xh", [D, InputDim], false), ("b_h", [D], true) };
        if (HasStaticInput)
        {
            specs.Add(("W_xh_static", [D, StaticDim], false));
        }
        specs.Add(("W_hh", [D, D], false));
        specs.Add(("W_ho", [D, D], false));
        specs.Add(("b_o", [D], true));
        return specs;
    }

    protected override void ReshapeScratch()
    {
        Reshape3(_h, T, N, D);
        Reshape3(_o, T, N, D);
        Reshape3(_hConted, T, N, D);
        Reshape3(_dh, T, N, D);
        Reshape3(_do, T, N, D);
        Reshape3(_staticPre, 1, N, D);
        Reshape3(_dhc, 1, N, D);
    }

    protected override void ForwardSteps(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        int nd = N * D, rows = T * N;
        var h = _h.Data;
        // pre-activations of all steps at once: (T·N, D) = x (T·N, I) · W_xhᵀ + b_h
        Gemm.Sgemm(false, true, rows, D, InputDim, 1f, bottom[0].Data, Blobs[0].Data, 0f, h);
        AddToRows(h, Blobs[1].Data, rows, D);
        if (HasStaticInput)
        {
            Gemm.Sgemm(false, true, N, D, StaticDim, 1f, bottom[2].Data, Blobs[StaticIndex].Data, 0f, _staticPre.Data);
            AddToRows(h, _staticPre.Data, T, nd);
        }
        var cont = bottom[1].Data;
        var whh = Blobs[Whh].Data;
        for (int t = 0; t < T; t++)
        {
            var hPrev = t == 0 ? InitialState(bottom, 0) : h.Slice((t - 1) * nd, nd);
            var hc = _hConted.Data.Slice(t * nd, nd);
            ScaleRows(hPrev, cont.Slice(t * N, N), N, D, hc, accumulate: false);
            var ht = h.Slice(t * nd, nd);
            Gemm.Sgemm(false, true, N, D, D, 1f, hc, whh, 1f, ht);
            TensorPrimitives.Tanh(ht, ht);
        }
        h.Slice((T - 1) * nd, nd).CopyTo(FinalState(0));
        var o = _o.Data;
        Gemm.Sgemm(false, true, rows, D, D, 1f, h, Blobs[Who].Data, 0f, o);
        AddToRows(o, Blobs[Bo].Data, rows, D);
        TensorPrimitives.Tanh(o, o);
        o.CopyTo(top[0].Data);
    }

    protected override void BackwardSteps(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        int nd = N * D, rows = T * N;
        var h = _h.Data;
        var dO = _do.Data;
        var dh = _dh.Data;
        Activations.TanhBackward(_o.Data, top[0].Diff, dO);
        if (ShouldComputeParamGradient(Who))
        {
            Gemm.Sgemm(true, false, D, D, rows, 1f, dO, h, 1f, Blobs[Who].Diff);
        }
        if (ShouldComputeParamGradient(Bo))
        {
            AccumulateRows(dO, rows, D, Blobs[Bo].Diff);
        }
        Gemm.Sgemm(false, false, rows, D, D, 1f, dO, Blobs[Who].Data, 0f, dh);
        var finalDiff = FinalStateDiff(top, 0);
        if (!finalDiff.IsEmpty)
        {
            var last = dh.Slice((T - 1) * nd, nd);
            TensorPrimitives.Add(last, finalDiff, last);
        }
        var h0Diff = InitialStateDiff(bottom, propagateDown, 0);
        var cont = bottom[1].Data;
        var whh = Blobs[Whh].Data;
        for (int t = T - 1; t >= 0; t--)
        {
            var da = dh.Slice(t * nd, nd);
            Activations.TanhBackward(h.Slice(t * nd, nd), da, da);
            if (t > 0 || !h0Diff.IsEmpty)
            {
                // dE/dh_{t-1} += cont_t · (da_t (N, D) · W_hh (D, D))
                Gemm.Sgemm(false, false, N, D, D, 1f, da, whh, 0f, _dhc.Data);
                ScaleRows(_dhc.Data, cont.Slice(t * N, N), N, D, t > 0 ? dh.Slice((t - 1) * nd, nd) : h0Diff, accumulate: t > 0);
            }
        }
        // dh now holds dE/d(pre-activation) for every step
        if (ShouldComputeParamGradient(Whh))
        {
            Gemm.Sgemm(true, false, D, D, rows, 1f, dh, _hConted.Data, 1f, Blobs[Whh].Diff);
        }
        if (ShouldComputeParamGradient(0))
        {
            Gemm.Sgemm(true, false, D, InputDim, rows, 1f, dh, bottom[0].Data, 1f, Blobs[0].Diff);
        }
        if (ShouldComputeParamGradient(1))
        {
            AccumulateRows(dh, rows, D, Blobs[1].Diff);
        }
        if (propagateDown[0])
        {
            Gemm.Sgemm(false, false, rows, InputDim, D, 1f, dh, Blobs[0].Data, 0f, bottom[0].Diff);
        }
        if (HasStaticInput && (ShouldComputeParamGradient(StaticIndex) || propagateDown[2]))
        {
            var dStatic = _staticPre.Diff;
            dStatic.Clear();
            AccumulateRows(dh, T, nd, dStatic);
            if (ShouldComputeParamGradient(StaticIndex))
            {
                Gemm.Sgemm(true, false, D, StaticDim, N, 1f, dStatic, bottom[2].Data, 1f, Blobs[StaticIndex].Diff);
            }
            if (propagateDown[2])
            {
                Gemm.Sgemm(false, false, N, StaticDim, D, 1f, dStatic, Blobs[StaticIndex].Data, 0f, bottom[2].Diff);
            }
        }
    }
}
