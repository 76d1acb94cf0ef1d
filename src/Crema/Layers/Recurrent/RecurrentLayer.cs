using System.Numerics.Tensors;
using Crema.Fillers;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Base of Caffe's RNN and LSTM layers. Bottoms: x (T, N, ...), cont (T, N), optional x_static (N, ...), then with
/// expose_hidden the initial states (1, N, D); tops: the output (T, N, D), then with expose_hidden the final states (1, N, D).
/// cont_t = 0 starts a new sequence at step t. Without expose_hidden the final states of one forward are the initial
/// states of the next, as in Caffe (a sequence may span several batches); <see cref="ResetState"/> zeroes them.
/// </summary>
/// <remarks>
/// Caffe unrolls an internal net; Crema runs the time loop directly with the same learnable blobs, shapes and numerics.
/// One deliberate difference: with expose_hidden Crema backpropagates through the exposed states (diffs of the final-state
/// tops flow back, initial-state bottoms get diffs); Caffe ignores those gradients.
/// </remarks>
public abstract class RecurrentLayer(LayerParameter param) : Layer(param)
{
    private readonly List<Blob> _initialState = [];
    private readonly List<Blob> _finalState = [];

    /// <summary>Timesteps, streams, hidden size, inputs per step (x counted from axis 2), static inputs per stream.</summary>
    protected int T { get; private set; }
    protected int N { get; private set; }
    protected int D { get; private set; }
    protected int InputDim { get; private set; }
    protected int StaticDim { get; private set; }
    protected bool HasStaticInput { get; private set; }
    protected bool ExposeHidden => Param.RecurrentParam?.ExposeHidden ?? false;

    /// <summary>Recurrent state blobs: 1 for RNN (h), 2 for LSTM (h, c).</summary>
    protected abstract int StateCount { get; }

    private int ExposedCount => ExposeHidden ? StateCount : 0;
    private int StateBottomOffset => 2 + (HasStaticInput ? 1 : 0);

    public override BlobCount BottomCount => BlobCount.Between(2 + ExposedCount, 3 + ExposedCount);
    public override BlobCount TopCount => BlobCount.Exactly(1 + ExposedCount);

    public override bool AllowForceBackward(int bottomIndex) => bottomIndex != 1;

    /// <summary>The learnable blobs in Caffe's order (name, shape, whether bias_filler fills it), from D, InputDim, StaticDim.</summary>
    protected abstract IReadOnlyList<(string Name, int[] Shape, bool IsBias)> ParamSpecs();

    /// <summary>Sizes the subclass's scratch blobs for the current T and N.</summary>
    protected abstract void ReshapeScratch();

    protected abstract void ForwardSteps(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top);

    protected abstract void BackwardSteps(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom);

    /// <summary>Zeroes the carried-over hidden state (without expose_hidden), as Caffe's Reset.</summary>
    public void ResetState()
    {
        foreach (var s in _finalState)
        {
            s.Data.Clear();
        }
    }

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.RecurrentParam ?? new RecurrentParameter();
        Check(p.NumOutput > 0, $"num_output must be > 0, got {p.NumOutput}");
        D = checked((int)p.NumOutput);
        Check(bottom[0].NumAxes >= 2, $"x (bottom #0) must have at least 2 axes (T, N, ...), got {Dims(bottom[0])}");
        InputDim = bottom[0].CountFrom(2);
        HasStaticInput = bottom.Count > 2 + ExposedCount;
        if (HasStaticInput)
        {
            Check(bottom[2].NumAxes >= 1, $"x_static (bottom #2) must have at least 1 axis (N, ...), got {Dims(bottom[2])}");
            StaticDim = bottom[2].CountFrom(1);
        }
        var specs = ParamSpecs();
        if (Blobs.Count > 0)
        {
            Check(Blobs.Count == specs.Count, $"expected {specs.Count} learnable blobs ({string.Join(", ", specs.Select(s => s.Name))}), got {Blobs.Count}");
            for (int i = 0; i < specs.Count; i++)
            {
                Check(Blobs[i].Shape.SequenceEqual(specs[i].Shape),
                    $"{specs[i].Name} (blob #{i}) has shape {Dims(Blobs[i])}, expected ({string.Join(", ", specs[i].Shape)})");
            }
        }
        else
        {
            foreach (var (_, shape, isBias) in specs)
            {
                var blob = new Blob(shape);
                Blobs.Add(blob);
                Filler.Fill(blob, isBias ? p.BiasFiller : p.WeightFiller);
            }
        }
        for (int i = 0; i < StateCount; i++)
        {
            _initialState.Add(new Blob());
            _finalState.Add(new Blob());
        }
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0];
        Check(x.NumAxes >= 2, $"x (bottom #0) must have at least 2 axes (T, N, ...), got {Dims(x)}");
        Check(x.CountFrom(2) == InputDim, $"x (bottom #0) {Dims(x)} has {x.CountFrom(2)} inputs per step, the weights expect {InputDim}");
        T = x.ShapeAt(0);
        N = x.ShapeAt(1);
        Check(T > 0, $"x (bottom #0) {Dims(x)} has no timesteps");
        var cont = bottom[1];
        Check(cont.NumAxes == 2 && cont.ShapeAt(0) == T && cont.ShapeAt(1) == N,
            $"cont (bottom #1) has shape {Dims(cont)}, expected (T, N) = ({T}, {N}) to match x {Dims(x)}");
        if (HasStaticInput)
        {
            var s = bottom[2];
            Check(s.NumAxes >= 1 && s.ShapeAt(0) == N && s.CountFrom(1) == StaticDim,
                $"x_static (bottom #2) has shape {Dims(s)}, expected {N} streams of {StaticDim} values");
        }
        for (int k = 0; k < ExposedCount; k++)
        {
            var h = bottom[StateBottomOffset + k];
            Check(h.NumAxes == 3 && h.ShapeAt(0) == 1 && h.ShapeAt(1) == N && h.ShapeAt(2) == D,
                $"initial state (bottom #{StateBottomOffset + k}) has shape {Dims(h)}, expected (1, {N}, {D})");
        }
        Reshape3(top[0], T, N, D);
        for (int k = 0; k < StateCount; k++)
        {
            if (ExposeHidden)
            {
                Reshape3(top[1 + k], 1, N, D);
            }
            if (_finalState[k].Count != N * D || _finalState[k].NumAxes != 3)
            {
                // A new batch size starts fresh sequences.
                Reshape3(_finalState[k], 1, N, D);
                Reshape3(_initialState[k], 1, N, D);
                _finalState[k].Data.Clear();
            }
        }
        ReshapeScratch();
    }

    protected sealed override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (!ExposeHidden)
        {
            for (int k = 0; k < StateCount; k++)
            {
                _finalState[k].Data.CopyTo(_initialState[k].Data);
            }
        }
        ForwardSteps(bottom, top);
        if (ExposeHidden)
        {
            for (int k = 0; k < StateCount; k++)
            {
                _finalState[k].Data.CopyTo(top[1 + k].Data);
            }
        }
    }

    protected sealed override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (propagateDown[1])
        {
            throw Error("cannot backpropagate to the sequence continuation indicators (bottom #1)");
        }
        BackwardSteps(top, propagateDown, bottom);
    }

    /// <summary>State k (1, N, D) before step 0: the exposed bottom, or the state carried over from the previous forward.</summary>
    protected ReadOnlySpan<float> InitialState(IReadOnlyList<Blob> bottom, int k) =>
        ExposeHidden ? bottom[StateBottomOffset + k].Data : _initialState[k].Data;

    /// <summary>Where the subclass writes state k after the last step (1, N, D).</summary>
    protected Span<float> FinalState(int k) => _finalState[k].Data;

    /// <summary>The diff of exposed initial state k, or empty when it is not exposed or not asked for.</summary>
    protected Span<float> InitialStateDiff(IReadOnlyList<Blob> bottom, IReadOnlyList<bool> propagateDown, int k) =>
        ExposeHidden && propagateDown[StateBottomOffset + k] ? bottom[StateBottomOffset + k].Diff : [];

    /// <summary>The diff of exposed final state k, or empty when not exposed.</summary>
    protected ReadOnlySpan<float> FinalStateDiff(IReadOnlyList<Blob> top, int k) => ExposeHidden ? top[1 + k].Diff : [];

    protected static void Reshape3(Blob blob, int a, int b, int c)
    {
        ReadOnlySpan<int> shape = [a, b, c];
        blob.Reshape(shape);
    }

    /// <summary>dst_row (+)= cont_row·src_row for n rows of width d.</summary>
    protected static void ScaleRows(ReadOnlySpan<float> src, ReadOnlySpan<float> cont, int n, int d, Span<float> dst, bool accumulate)
    {
        for (int s = 0; s < n; s++)
        {
            var row = src.Slice(s * d, d);
            var outRow = dst.Slice(s * d, d);
            if (accumulate)
            {
                TensorPrimitives.MultiplyAdd(row, cont[s], outRow, outRow);
            }
            else
            {
                TensorPrimitives.Multiply(row, cont[s], outRow);
            }
        }
    }

    /// <summary>Adds the vector v (width d) to each of the rows of y.</summary>
    protected static void AddToRows(Span<float> y, ReadOnlySpan<float> v, int rows, int d)
    {
        for (int i = 0; i < rows; i++)
        {
            var row = y.Slice(i * d, d);
            TensorPrimitives.Add(row, v, row);
        }
    }

    /// <summary>acc (width d) += Σ over the rows of x.</summary>
    protected static void AccumulateRows(ReadOnlySpan<float> x, int rows, int d, Span<float> acc)
    {
        for (int i = 0; i < rows; i++)
        {
            TensorPrimitives.Add(acc, x.Slice(i * d, d), acc);
        }
    }

    /// <summary>"(3, 2, 4)": the shape as messages print it.</summary>
    protected static string Dims(Blob blob) => $"({string.Join(", ", blob.Shape)})";
}
