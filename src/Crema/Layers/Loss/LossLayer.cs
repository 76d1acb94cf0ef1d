using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Base of the loss layers: bottom 0 = predictions, bottom 1 = targets (labels), top 0 = a scalar loss with loss_weight 1 by default.
/// </summary>
public abstract class LossLayer : Layer
{
    protected LossLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(2);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    /// <summary>Targets (bottom 1) are never differentiated by force_backward.</summary>
    public override bool AllowForceBackward(int bottomIndex) => bottomIndex != 1;

    protected override float DefaultLossWeight(int topIndex) => topIndex == 0 ? 1 : 0;

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        CheckSameBatch(bottom[0], bottom[1]);
        top[0].Reshape(ReadOnlySpan<int>.Empty);
    }

    /// <summary>
    /// The class index a label value names among <paramref name="classes"/>, or −1 when it is <paramref name="ignoreLabel"/>;
    /// any other value out of range is an error naming the layer.
    /// </summary>
    protected int CheckedLabel(float value, int classes, int? ignoreLabel = null)
    {
        int c = (int)value;
        if (c == ignoreLabel)
        {
            return -1;
        }
        if (c < 0 || c >= classes)
        {
            throw Error($"label {value} out of range [0, {classes - 1}] for {classes} classes");
        }
        return c;
    }

    protected void CheckSameBatch(Blob predictions, Blob targets)
    {
        int n0 = predictions.NumAxes > 0 ? predictions.ShapeAt(0) : 1;
        int n1 = targets.NumAxes > 0 ? targets.ShapeAt(0) : 1;
        if (n0 != n1)
        {
            throw Error($"bottoms must have the same first dimension (batch size): got {Shape(predictions)} and {Shape(targets)}");
        }
    }

    /// <summary>Throws when Backward is asked for the gradient of the label bottom, which has none.</summary>
    protected void RefuseLabelGradient(IReadOnlyList<bool> propagateDown, int labelIndex = 1)
    {
        if (labelIndex < propagateDown.Count && propagateDown[labelIndex])
        {
            throw Error($"cannot backpropagate to label inputs (bottom #{labelIndex})");
        }
    }

    /// <summary>
    /// Resolves loss_param's normalization: explicit <c>normalization</c> wins; else the deprecated <c>normalize</c> bool
    /// (true = VALID, false = BATCH_SIZE); else <paramref name="fallback"/>.
    /// </summary>
    protected static LossParameter.Types.NormalizationMode ResolveNormalization(LayerParameter param, LossParameter.Types.NormalizationMode fallback)
    {
        var lp = param.LossParam;
        if (lp == null)
        {
            return fallback;
        }
        if (lp.HasNormalization)
        {
            return lp.Normalization;
        }
        if (lp.HasNormalize)
        {
            return lp.Normalize ? LossParameter.Types.NormalizationMode.Valid : LossParameter.Types.NormalizationMode.BatchSize;
        }
        return fallback;
    }

    /// <summary>The divisor of the summed loss; never below 1 so an all-ignored batch gives loss 0, not NaN.</summary>
    protected static float Normalizer(LossParameter.Types.NormalizationMode mode, int outerNum, int innerNum, int validCount) =>
        Math.Max(1f, mode switch
        {
            LossParameter.Types.NormalizationMode.Full => (float)outerNum * innerNum,
            LossParameter.Types.NormalizationMode.Valid => validCount < 0 ? (float)outerNum * innerNum : validCount,
            LossParameter.Types.NormalizationMode.BatchSize => outerNum,
            _ => 1f,
        });

    protected static string Shape(Blob blob) => $"({string.Join(", ", blob.Shape)})";
}
