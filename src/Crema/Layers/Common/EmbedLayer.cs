using System.Numerics.Tensors;
using Crema.Fillers;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Lookup table: for every element i of the bottom (an integer index in [0, input_dim) stored as a float),
/// y[i, :] = W[i-th index, :] (+ b); W: (input_dim, num_output), top shape = bottom shape + (num_output).
/// </summary>
[LayerType("Embed")]
public sealed class EmbedLayer(LayerParameter param) : Layer(param)
{
    private int _numOutput, _inputDim;
    private bool _biasTerm;
    private int[] _topShape = [];

    public override BlobCount BottomCount => BlobCount.Exactly(1);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    // The bottom holds indices: there is no gradient for them.
    public override bool AllowForceBackward(int bottomIndex) => false;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.EmbedParam ?? new EmbedParameter();
        Check(p.NumOutput > 0 && p.NumOutput <= int.MaxValue, $"num_output must be > 0, got {p.NumOutput}");
        Check(p.InputDim > 0 && p.InputDim <= int.MaxValue, $"input_dim must be > 0, got {p.InputDim}");
        _numOutput = (int)p.NumOutput;
        _inputDim = (int)p.InputDim;
        _biasTerm = p.BiasTerm;
        AdoptOrCreateWeights([_inputDim, _numOutput], p.WeightFiller, _biasTerm ? [_numOutput] : null, p.BiasFiller);
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var b = bottom[0];
        if (_topShape.Length != b.NumAxes + 1)
        {
            _topShape = new int[b.NumAxes + 1];
        }
        for (int i = 0; i < b.NumAxes; i++)
        {
            _topShape[i] = b.ShapeAt(i);
        }
        _topShape[^1] = _numOutput;
        top[0].Reshape(_topShape);
    }

    private int IndexAt(ReadOnlySpan<float> indices, int i)
    {
        float value = indices[i];
        int index = (int)value;
        Check(index == value && index >= 0 && index < _inputDim,
            $"bottom element {i} is {value}; indices must be integers in [0, input_dim = {_inputDim})");
        return index;
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> indices = bottom[0].Data;
        ReadOnlySpan<float> weights = Blobs[0].Data;
        var y = top[0].Data;
        for (int i = 0; i < indices.Length; i++)
        {
            var row = y.Slice(i * _numOutput, _numOutput);
            weights.Slice(IndexAt(indices, i) * _numOutput, _numOutput).CopyTo(row);
            if (_biasTerm)
            {
                TensorPrimitives.Add(row, Blobs[1].Data, row);
            }
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        Check(!propagateDown[0], "cannot backpropagate to its bottom: it holds indices");
        ReadOnlySpan<float> indices = bottom[0].Data;
        ReadOnlySpan<float> dy = top[0].Diff;
        if (ShouldComputeParamGradient(0))
        {
            // dW[index_i, :] += dy[i, :]
            var dw = Blobs[0].Diff;
            for (int i = 0; i < indices.Length; i++)
            {
                var row = dw.Slice(IndexAt(indices, i) * _numOutput, _numOutput);
                TensorPrimitives.Add(row, dy.Slice(i * _numOutput, _numOutput), row);
            }
        }
        if (_biasTerm && ShouldComputeParamGradient(1))
        {
            var db = Blobs[1].Diff;
            for (int i = 0; i < indices.Length; i++)
            {
                TensorPrimitives.Add(db, dy.Slice(i * _numOutput, _numOutput), db);
            }
        }
    }
}
