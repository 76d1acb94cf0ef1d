using System.Numerics.Tensors;
using Crema.Proto;
using Op = Crema.Proto.ReductionParameter.Types.ReductionOp;

namespace Crema.Layers;

/// <summary>Reduces all axes from <c>axis</c> on: y = coeff·op(x) with op SUM, ASUM (Σ|x|), SUMSQ (Σx²) or MEAN; top shape = bottom shape[0:axis].</summary>
[LayerType("Reduction")]
public sealed class ReductionLayer : Layer
{
    private Op _op;
    private float _coeff;
    private int _num;
    private int _dim;
    private int[] _topShape = [];

    public ReductionLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(1);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.ReductionParam ?? new ReductionParameter();
        _op = p.Operation;
        Check(_op is Op.Sum or Op.Asum or Op.Sumsq or Op.Mean, $"unknown operation {_op}");
        _coeff = p.Coeff;
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0];
        int requested = Param.ReductionParam?.Axis ?? 0;
        if (requested < -x.NumAxes || requested >= x.NumAxes)
        {
            throw Error($"axis {requested} out of range for bottom shape ({string.Join(", ", x.Shape)})");
        }
        int axis = x.CanonicalAxis(requested);
        if (_topShape.Length != axis)
        {
            _topShape = new int[axis];
        }
        for (int i = 0; i < axis; i++)
        {
            _topShape[i] = x.Shape[i];
        }
        top[0].Reshape(_topShape);
        _num = x.CountRange(0, axis);
        _dim = x.CountFrom(axis);
    }

    // x: (num, dim) → y: (num)
    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> x = bottom[0].Data;
        var y = top[0].Data;
        for (int n = 0; n < _num; n++)
        {
            var row = x.Slice(n * _dim, _dim);
            float v = _op switch
            {
                Op.Sum => TensorPrimitives.Sum(row),
                Op.Asum => TensorPrimitives.SumOfMagnitudes(row),
                Op.Sumsq => TensorPrimitives.SumOfSquares(row),
                _ => _dim == 0 ? 0 : TensorPrimitives.Sum(row) / _dim,
            };
            y[n] = _coeff * v;
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (!propagateDown[0])
        {
            return;
        }
        ReadOnlySpan<float> x = bottom[0].Data;
        ReadOnlySpan<float> dy = top[0].Diff;
        var dx = bottom[0].Diff;
        for (int n = 0; n < _num; n++)
        {
            var xs = x.Slice(n * _dim, _dim);
            var dxs = dx.Slice(n * _dim, _dim);
            float g = _coeff * dy[n];
            switch (_op)
            {
                case Op.Sum:
                    dxs.Fill(g);
                    break;
                case Op.Mean:
                    dxs.Fill(g / _dim);
                    break;
                case Op.Asum:
                    // d|x|/dx = sign(x), 0 at 0.
                    for (int k = 0; k < _dim; k++)
                    {
                        dxs[k] = g * MathF.Sign(xs[k]);
                    }
                    break;
                case Op.Sumsq:
                    TensorPrimitives.Multiply(xs, 2 * g, dxs);
                    break;
            }
        }
    }
}
