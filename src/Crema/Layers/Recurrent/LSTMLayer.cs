using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// LSTM over T steps: gates_t = W_xc·x_t + b_c [+ W_xc_static·x_static] + W_hc·(cont_t·h_{t-1}), in Caffe's order (i, f, o, g);
/// c_t = cont_t·σ(f)·c_{t-1} + σ(i)·tanh(g); h_t = σ(o)·tanh(c_t). Top h (T, N, D).
/// Learnable blobs: W_xc (4D, I), b_c (4D), [W_xc_static (4D, S)], W_hc (4D, D).
/// </summary>
[LayerType("LSTM")]
public sealed class LSTMLayer(LayerParameter param) : RecurrentLayer(param)
{
    private readonly Blob _gates = new();       // (T, N, 4D) pre-activations
    private readonly Blob _acts = new();        // (T, N, 4D) σ/tanh of the gates
    private readonly Blob _c = new();           // (T, N, D)
    private readonly Blob _hConted = new();     // (T, N, D) cont_t·h_{t-1}
    private readonly Blob _staticGates = new(); // (N, 4D)
    private readonly Blob _dh = new();          // (T, N, D)
    private readonly Blob _dGates = new();      // (T, N, 4D)
    private readonly Blob _dc = new();          // (N, D) running dE/dc
    private readonly Blob _dhc = new();         // (N, D)

    protected override int StateCount => 2;

    private int StaticIndex => HasStaticInput ? 2 : -1;
    private int HiddenWeightIndex => HasStaticInput ? 3 : 2;

    protected override IReadOnlyList<(string Name, int[] Shape, bool IsBias)> ParamSpecs()
    {
        var specs = new List<(string, int[], bool)> { ("W_xc", [4 * D, InputDim], false), ("b_c", [4 * D], true) };
        if (HasStaticInput)
        {
            specs.Add(("W_xc_static", [4 * D, StaticDim], false));
        }
        specs.Add(("W_hc", [4 * D, D], false));
        return specs;
    }

    protected override void ReshapeScratch()
    {
        Reshape3(_gates, T, N, 4 * D);
        Reshape3(_acts, T, N, 4 * D);
        Reshape3(_c, T, N, D);
        Reshape3(_hConted, T, N, D);
        Reshape3(_dh, T, N, D);
        Reshape3(_dGates, T, N, 4 * D);
        Reshape3(_staticGates, 1, N, 4 * D);
        Reshape3(_dc, 1, N, D);
        Reshape3(_dhc, 1, N, D);
    }

    protected override void ForwardSteps(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        int g = 4 * D, nd = N * D, ng = N * g;
        var gates = _gates.Data;
        // all steps at once: gates (T·N, 4D) = x (T·N, I) · W_xcᵀ + b_c
        Gemm.Sgemm(false, true, T * N, g, InputDim, 1f, bottom[0].Data, Blobs[0].Data, 0f, gates);
        AddToRows(gates, Blobs[1].Data, T * N, g);
        if (HasStaticInput)
        {
            Gemm.Sgemm(false, true, N, g, StaticDim, 1f, bottom[2].Data, Blobs[StaticIndex].Data, 0f, _staticGates.Data);
            for (int t = 0; t < T; t++)
            {
                AddToRows(gates.Slice(t * ng, ng), _staticGates.Data, 1, ng);
            }
        }
        var cont = bottom[1].Data;
        var h = top[0].Data;
        var c = _c.Data;
        var wh = Blobs[HiddenWeightIndex].Data;
        for (int t = 0; t < T; t++)
        {
            var hPrev = t == 0 ? InitialState(bottom, 0) : h.Slice((t - 1) * nd, nd);
            var cPrev = t == 0 ? InitialState(bottom, 1) : c.Slice((t - 1) * nd, nd);
            var hc = _hConted.Data.Slice(t * nd, nd);
            var contT = cont.Slice(t * N, N);
            ScaleRows(hPrev, contT, N, D, hc, accumulate: false);
            var gt = gates.Slice(t * ng, ng);
            Gemm.Sgemm(false, true, N, g, D, 1f, hc, wh, 1f, gt);
            LstmKernels.UnitForward(N, D, cPrev, gt, contT, _acts.Data.Slice(t * ng, ng), c.Slice(t * nd, nd), h.Slice(t * nd, nd));
        }
        h.Slice((T - 1) * nd, nd).CopyTo(FinalState(0));
        c.Slice((T - 1) * nd, nd).CopyTo(FinalState(1));
    }

    protected override void BackwardSteps(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        int g = 4 * D, nd = N * D, ng = N * g, rows = T * N;
        var dh = _dh.Data;
        top[0].Diff.CopyTo(dh);
        var dc = _dc.Data;
        var finalHDiff = FinalStateDiff(top, 0);
        var finalCDiff = FinalStateDiff(top, 1);
        var dhLast = dh.Slice((T - 1) * nd, nd);
        if (!finalHDiff.IsEmpty)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(dhLast, finalHDiff, dhLast);
        }
        if (finalCDiff.IsEmpty)
        {
            dc.Clear();
        }
        else
        {
            finalCDiff.CopyTo(dc);
        }
        var h0Diff = InitialStateDiff(bottom, propagateDown, 0);
        var c0Diff = InitialStateDiff(bottom, propagateDown, 1);
        var cont = bottom[1].Data;
        var c = _c.Data;
        var dGates = _dGates.Data;
        var wh = Blobs[HiddenWeightIndex].Data;
        for (int t = T - 1; t >= 0; t--)
        {
            var cPrev = t == 0 ? InitialState(bottom, 1) : c.Slice((t - 1) * nd, nd);
            var contT = cont.Slice(t * N, N);
            var dgt = dGates.Slice(t * ng, ng);
            // dc becomes dE/dc_{t-1} in place
            LstmKernels.UnitBackward(N, D, cPrev, _acts.Data.Slice(t * ng, ng), c.Slice(t * nd, nd), contT, dc,
                dh.Slice(t * nd, nd), dc, dgt);
            if (t > 0 || !h0Diff.IsEmpty)
            {
                // dE/dh_{t-1} += cont_t · (dgates_t (N, 4D) · W_hc (4D, D))
                Gemm.Sgemm(false, false, N, D, g, 1f, dgt, wh, 0f, _dhc.Data);
                ScaleRows(_dhc.Data, contT, N, D, t > 0 ? dh.Slice((t - 1) * nd, nd) : h0Diff, accumulate: t > 0);
            }
        }
        if (!c0Diff.IsEmpty)
        {
            dc.CopyTo(c0Diff);
        }
        if (ShouldComputeParamGradient(HiddenWeightIndex))
        {
            Gemm.Sgemm(true, false, g, D, rows, 1f, dGates, _hConted.Data, 1f, Blobs[HiddenWeightIndex].Diff);
        }
        if (ShouldComputeParamGradient(0))
        {
            Gemm.Sgemm(true, false, g, InputDim, rows, 1f, dGates, bottom[0].Data, 1f, Blobs[0].Diff);
        }
        if (ShouldComputeParamGradient(1))
        {
            AccumulateRows(dGates, rows, g, Blobs[1].Diff);
        }
        if (propagateDown[0])
        {
            Gemm.Sgemm(false, false, rows, InputDim, g, 1f, dGates, Blobs[0].Data, 0f, bottom[0].Diff);
        }
        if (HasStaticInput && (ShouldComputeParamGradient(StaticIndex) || propagateDown[2]))
        {
            // x_static feeds every step: its gate gradient is the sum over t
            var dStatic = _staticGates.Diff;
            dStatic.Clear();
            AccumulateRows(dGates, T, ng, dStatic);
            if (ShouldComputeParamGradient(StaticIndex))
            {
                Gemm.Sgemm(true, false, g, StaticDim, N, 1f, dStatic, bottom[2].Data, 1f, Blobs[StaticIndex].Diff);
            }
            if (propagateDown[2])
            {
                Gemm.Sgemm(false, false, N, StaticDim, g, 1f, dStatic, Blobs[StaticIndex].Data, 0f, bottom[2].Diff);
            }
        }
    }
}
