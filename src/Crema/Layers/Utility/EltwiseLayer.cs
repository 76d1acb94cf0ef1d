using System.Numerics.Tensors;
using Crema.Proto;
using Op = Crema.Proto.EltwiseParameter.Types.EltwiseOp;

namespace Crema.Layers;

/// <summary>Element-wise y = Π xᵢ (PROD), Σ cᵢ·xᵢ (SUM, coeff default 1) or max xᵢ (MAX, remembering which bottom won).</summary>
[LayerType("Eltwise")]
public sealed class EltwiseLayer : Layer, IInferenceFusionTarget, IResidualSum
{
    private Op _op;
    private float[] _coeffs = [];
    private bool _stableProdGrad;
    private int[] _argmax = [];
    // Set by Net.OptimizeForInference: a following in-place leaky ReLU applied in the SUM's last pass.
    private bool _fusedActivation;
    private float _fusedNegativeSlope;

    public EltwiseLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.AtLeast(2);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.EltwiseParam ?? new EltwiseParameter();
        _op = p.Operation;
        Check(p.Coeff.Count == 0 || p.Coeff.Count == bottom.Count,
            $"{p.Coeff.Count} coeff value(s) for {bottom.Count} bottoms; give one per bottom or none");
        // Caffe ignores coeff for MAX but rejects it for PROD.
        Check(p.Coeff.Count == 0 || _op != Op.Prod, $"coeff is only supported for SUM, not {_op}");
        _coeffs = new float[bottom.Count];
        for (int i = 0; i < _coeffs.Length; i++)
        {
            _coeffs[i] = p.Coeff.Count > 0 ? p.Coeff[i] : 1f;
        }
        _stableProdGrad = p.StableProdGrad;
        for (int i = 0; i < bottom.Count; i++)
        {
            // Backward reads the bottoms' data and the top's diff after writing bottom diffs, so they must not alias.
            Check(!ReferenceEquals(top[0], bottom[i]), $"cannot run in place (top is bottom #{i})");
        }
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        for (int i = 1; i < bottom.Count; i++)
        {
            if (!bottom[i].ShapeEquals(bottom[0]))
            {
                throw Error($"bottom #{i} shape ({string.Join(", ", bottom[i].Shape)}) differs from bottom #0 shape ({string.Join(", ", bottom[0].Shape)})");
            }
        }
        top[0].ReshapeLike(bottom[0]);
        if (_op == Op.Max && _argmax.Length < bottom[0].Count)
        {
            _argmax = new int[bottom[0].Count];
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var y = top[0].Data;
        switch (_op)
        {
            case Op.Prod:
                TensorPrimitives.Multiply(bottom[0].Data, bottom[1].Data, y);
                for (int i = 2; i < bottom.Count; i++)
                {
                    TensorPrimitives.Multiply(y, bottom[i].Data, y);
                }
                break;
            case Op.Sum when _fusedActivation:
                int last = bottom.Count - 1;
                if (last == 1)
                {
                    Kernels.FusedActivations.ScaledSumLeakyRelu(bottom[0].Data, _coeffs[0], bottom[1].Data, _coeffs[1], y, _fusedNegativeSlope);
                    break;
                }
                TensorPrimitives.Multiply(bottom[0].Data, _coeffs[0], y);
                for (int i = 1; i < last; i++)
                {
                    TensorPrimitives.MultiplyAdd(bottom[i].Data, _coeffs[i], y, y);
                }
                Kernels.FusedActivations.ScaledSumLeakyRelu(y, 1f, bottom[last].Data, _coeffs[last], y, _fusedNegativeSlope);
                break;
            case Op.Sum:
                TensorPrimitives.Multiply(bottom[0].Data, _coeffs[0], y);
                for (int i = 1; i < bottom.Count; i++)
                {
                    TensorPrimitives.MultiplyAdd(bottom[i].Data, _coeffs[i], y, y);
                }
                break;
            case Op.Max:
                // Ties keep the earlier bottom, so exactly one bottom receives each gradient.
                var argmax = _argmax.AsSpan(0, y.Length);
                bottom[0].Data.CopyTo(y);
                argmax.Clear();
                for (int i = 1; i < bottom.Count; i++)
                {
                    ReadOnlySpan<float> x = bottom[i].Data;
                    for (int k = 0; k < y.Length; k++)
                    {
                        if (x[k] > y[k])
                        {
                            y[k] = x[k];
                            argmax[k] = i;
                        }
                    }
                }
                break;
            default:
                throw Error($"unknown operation {_op}");
        }
    }

    int IInferenceFusionTarget.FoldableChannels => 0;

    bool IInferenceFusionTarget.CanFuseActivation => _op == Op.Sum;

    void IInferenceFusionTarget.FoldChannelAffine(double[] scale, double[] shift) =>
        throw Error("an Eltwise output cannot take a folded affine map");

    void IInferenceFusionTarget.FuseActivation(float negativeSlope)
    {
        Check(_op == Op.Sum, $"only SUM can fuse an activation, not {_op}");
        _fusedActivation = true;
        _fusedNegativeSlope = negativeSlope;
    }

    void IInferenceFusionTarget.ClearInferenceFusion() => _fusedActivation = false;

    // Caffe's bottoms·coefficients are summed in order; with two bottoms and unit coefficients that is x₀ + x₁ exactly.
    bool IResidualSum.IsUnitSumOfTwo => _op == Op.Sum && _coeffs.Length == 2 && _coeffs[0] == 1f && _coeffs[1] == 1f;

    float? IResidualSum.FusedActivationSlope => _fusedActivation ? _fusedNegativeSlope : null;

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        ReadOnlySpan<float> dy = top[0].Diff;
        ReadOnlySpan<float> y = top[0].Data;
        for (int i = 0; i < bottom.Count; i++)
        {
            if (!propagateDown[i])
            {
                continue;
            }
            var dx = bottom[i].Diff;
            switch (_op)
            {
                case Op.Prod:
                    if (_stableProdGrad)
                    {
                        // Product of the other bottoms, without dividing by a possibly-zero xᵢ.
                        bool first = true;
                        for (int j = 0; j < bottom.Count; j++)
                        {
                            if (j == i)
                            {
                                continue;
                            }
                            if (first)
                            {
                                bottom[j].Data.CopyTo(dx);
                                first = false;
                            }
                            else
                            {
                                TensorPrimitives.Multiply(dx, bottom[j].Data, dx);
                            }
                        }
                    }
                    else
                    {
                        TensorPrimitives.Divide(y, bottom[i].Data, dx);
                    }
                    TensorPrimitives.Multiply(dx, dy, dx);
                    break;
                case Op.Sum:
                    TensorPrimitives.Multiply(dy, _coeffs[i], dx);
                    break;
                case Op.Max:
                    for (int k = 0; k < dx.Length; k++)
                    {
                        dx[k] = _argmax[k] == i ? dy[k] : 0f;
                    }
                    break;
            }
        }
    }
}
