using Crema.Kernels;
using Crema.Proto;
using Activation = Crema.Proto.DiceLossParameter.Types.Activation;

namespace Crema.Layers;

/// <summary>
/// loss = 1 − (1/C) Σ_c (2·Σ p·t + s) / (Σ p + Σ t + s), sums over batch and space per class c, p = activation(scores).
/// Labels: integer classes (N, 1, H, W) / (N, H, W), one-hot encoded here, or a mask shaped like the scores (then C may be 1).
/// </summary>
[LayerType("DiceLoss")]
public sealed class DiceLossLayer(LayerParameter param) : LossLayer(param)
{
    private Activation _activation;
    private float _smooth;
    private bool _hasIgnoreLabel;
    private int _ignoreLabel;
    private bool _maskLabels;
    private int _num, _classes, _inner;
    private float[] _prob = [];
    private float[] _grad = [];
    private double[] _intersection = [];
    private double[] _probSum = [];
    private double[] _denominator = []; // Σ p + Σ t + s per class
    private double[] _dice = [];

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.DiceLossParam ?? new DiceLossParameter();
        _activation = p.Activation;
        _smooth = p.Smooth;
        Check(_smooth >= 0 && float.IsFinite(_smooth), $"smooth must be finite and >= 0, got {_smooth}");
        Check(Enum.IsDefined(_activation), $"unknown activation {(int)_activation}");
        _hasIgnoreLabel = Param.LossParam?.HasIgnoreLabel ?? false;
        _ignoreLabel = _hasIgnoreLabel ? Param.LossParam!.IgnoreLabel : 0;
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        base.Reshape(bottom, top);
        var scores = bottom[0];
        Check(scores.NumAxes >= 2, $"scores must be (N, C, ...), got {scores.ShapeString()}");
        (_num, _classes, _inner) = (scores.ShapeAt(0), scores.ShapeAt(1), scores.CountFrom(2));
        Check(_activation != Activation.Softmax || _classes > 1,
            $"activation SOFTMAX over {_classes} channel is constant 1; use SIGMOID for binary segmentation");
        // A label blob as large as the scores is a mask (covers C = 1); one value per position is an integer class map.
        _maskLabels = bottom[1].Count == scores.Count;
        Check(_maskLabels || bottom[1].Count == _num * _inner,
            $"label {Shape(bottom[1])} must be integer classes with {_num * _inner} values (N, 1, H, W) or a mask shaped like the scores {Shape(scores)}");
        if (_prob.Length < scores.Count)
        {
            _prob = new float[scores.Count];
            _grad = new float[scores.Count];
        }
        if (_dice.Length != _classes)
        {
            _intersection = new double[_classes];
            _probSum = new double[_classes];
            _denominator = new double[_classes];
            _dice = new double[_classes];
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        int count = bottom[0].Count;
        var prob = _prob.AsSpan(0, count);
        ReadOnlySpan<float> scores = bottom[0].Data;
        switch (_activation)
        {
            case Activation.Sigmoid: System.Numerics.Tensors.TensorPrimitives.Sigmoid(scores, prob); break;
            case Activation.Softmax: SoftmaxKernels.Forward(_num, _classes, _inner, scores, prob); break;
            default: scores.CopyTo(prob); break;
        }
        ReadOnlySpan<float> label = bottom[1].Data;
        _intersection.AsSpan().Clear();
        _probSum.AsSpan().Clear();
        _denominator.AsSpan().Clear();
        for (int n = 0; n < _num; n++)
        {
            for (int c = 0; c < _classes; c++)
            {
                int offset = (n * _classes + c) * _inner;
                for (int i = 0; i < _inner; i++)
                {
                    float t = Target(label, n, c, i);
                    if (float.IsNaN(t))
                    {
                        continue;
                    }
                    float pv = prob[offset + i];
                    _intersection[c] += pv * t;
                    _probSum[c] += pv;
                    _denominator[c] += t; // Σ t for now
                }
            }
        }
        double mean = 0;
        for (int c = 0; c < _classes; c++)
        {
            _denominator[c] += _probSum[c] + _smooth;
            // NOTE: only smooth = 0 with an all-empty class reaches 0/0; both sides agree there, so count it as a perfect score.
            _dice[c] = _denominator[c] > 0 ? (2 * _intersection[c] + _smooth) / _denominator[c] : 1;
            mean += _dice[c];
        }
        top[0].Data[0] = (float)(1 - mean / _classes);
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        RefuseLabelGradient(propagateDown);
        if (!propagateDown[0])
        {
            return;
        }
        // dL/dp = −(w/C)·(2t − D_c) / (Σp + Σt + s)_c on counted entries, 0 on ignored ones.
        int count = bottom[0].Count;
        var grad = _grad.AsSpan(0, count);
        ReadOnlySpan<float> label = bottom[1].Data;
        double scale = -top[0].Diff[0] / (double)_classes;
        for (int n = 0; n < _num; n++)
        {
            for (int c = 0; c < _classes; c++)
            {
                int offset = (n * _classes + c) * _inner;
                double denominator = _denominator[c];
                for (int i = 0; i < _inner; i++)
                {
                    float t = Target(label, n, c, i);
                    grad[offset + i] = float.IsNaN(t) || denominator <= 0 ? 0f : (float)(scale * (2 * t - _dice[c]) / denominator);
                }
            }
        }
        var dx = bottom[0].Diff;
        ReadOnlySpan<float> prob = _prob.AsSpan(0, count);
        switch (_activation)
        {
            case Activation.Sigmoid: Activations.SigmoidBackward(prob, grad, dx); break;
            case Activation.Softmax: SoftmaxKernels.Backward(_num, _classes, _inner, prob, grad, dx); break;
            default: grad.CopyTo(dx); break;
        }
    }

    // The target t of score (n, c, i), or NaN when the entry is ignored.
    private float Target(ReadOnlySpan<float> label, int n, int c, int i)
    {
        if (_maskLabels)
        {
            float t = label[(n * _classes + c) * _inner + i];
            return _hasIgnoreLabel && t == _ignoreLabel ? float.NaN : t;
        }
        float value = label[n * _inner + i];
        int k = (int)value;
        if (_hasIgnoreLabel && k == _ignoreLabel)
        {
            return float.NaN;
        }
        if (k < 0 || k >= _classes || k != value)
        {
            throw Error($"label {value} is not a class in [0, {_classes - 1}]");
        }
        return k == c ? 1f : 0f;
    }
}
