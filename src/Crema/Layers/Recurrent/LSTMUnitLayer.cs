using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// One LSTM step: gates (i, f, o, g) = (σ, σ, σ, tanh)(x); c_t = cont·f·c_{t-1} + i·g; h_t = o·tanh(c_t).
/// Bottoms c_{t-1} (1, N, D), x (1, N, 4D), cont (1, N); tops c_t, h_t (1, N, D). No gradient to cont.
/// </summary>
[LayerType("LSTMUnit")]
public sealed class LSTMUnitLayer(LayerParameter param) : Layer(param)
{
    private int _n;
    private int _d;
    private readonly Blob _acts = new();
    private readonly Blob _unusedDiff = new();

    public override BlobCount BottomCount => BlobCount.Exactly(3);
    public override BlobCount TopCount => BlobCount.Exactly(2);

    public override bool AllowForceBackward(int bottomIndex) => bottomIndex != 2;

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var cPrev = bottom[0];
        var x = bottom[1];
        var cont = bottom[2];
        Check(cPrev.NumAxes == 3 && cPrev.ShapeAt(0) == 1,
            $"c_prev (bottom #0) must be (1, N, D), got {Dims(cPrev)}");
        _n = cPrev.ShapeAt(1);
        _d = cPrev.ShapeAt(2);
        Check(x.NumAxes == 3 && x.ShapeAt(0) == 1 && x.ShapeAt(1) == _n && x.ShapeAt(2) == 4 * _d,
            $"gate input (bottom #1) must be (1, {_n}, {4 * _d}) for c_prev {Dims(cPrev)}, got {Dims(x)}");
        Check(cont.NumAxes == 2 && cont.ShapeAt(0) == 1 && cont.ShapeAt(1) == _n,
            $"cont (bottom #2) must be (1, {_n}), got {Dims(cont)}");
        top[0].ReshapeLike(cPrev);
        top[1].ReshapeLike(cPrev);
        _acts.ReshapeLike(x);
        _unusedDiff.ReshapeLike(x);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) =>
        LstmKernels.UnitForward(_n, _d, bottom[0].Data, bottom[1].Data, bottom[2].Data, _acts.Data, top[0].Data, top[1].Data);

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (propagateDown[2])
        {
            throw Error("cannot backpropagate to the sequence continuation indicators (bottom #2)");
        }
        if (!propagateDown[0] && !propagateDown[1])
        {
            return;
        }
        // The kernel writes both gradients; the one not asked for goes to scratch so the bottom's diff stays untouched.
        var dcPrev = propagateDown[0] ? bottom[0].Diff : _unusedDiff.Diff;
        var dGates = propagateDown[1] ? bottom[1].Diff : _unusedDiff.Diff;
        LstmKernels.UnitBackward(_n, _d, bottom[0].Data, _acts.Data, top[0].Data, bottom[2].Data, top[0].Diff, top[1].Diff,
            dcPrev, dGates);
    }

    /// <summary>"(3, 2, 4)": the shape as messages print it.</summary>
    private static string Dims(Blob blob) => $"({string.Join(", ", blob.Shape)})";
}
