using Crema;
using Crema.Layers;
using Crema.Proto;

/// <summary>
/// Dice loss for segmentation: per sample n, D = (2·Σ p·g + s) / (Σ p + Σ g + s); E = 1 − mean_n D.
/// bottom[0] = probabilities p in [0, 1], bottom[1] = mask g (0/1), same count; s from param_str "smooth=1".
/// </summary>
public sealed class DiceLossLayer : CustomLayer
{
    private float _smooth;
    // Per sample, kept from Forward for Backward: Σ p·g, and Σ p + Σ g.
    private double[] _intersection = [];
    private double[] _total = [];

    public DiceLossLayer(LayerParameter param) : base(param) { }

    // The mask is data, not something to learn: force_backward must not ask for its gradient.
    public override bool AllowForceBackward(int bottomIndex) => bottomIndex != 1;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(bottom.Count == 2, $"needs exactly 2 bottoms (probabilities, mask), got {bottom.Count}");
        Check(top.Count == 1, $"produces exactly 1 top (the loss), got {top.Count}");
        CheckParamKeys("smooth");
        _smooth = GetFloat("smooth", 1f);
        Check(_smooth >= 0, $"smooth must be >= 0, got {_smooth}");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(bottom[0].Count == bottom[1].Count,
            $"probabilities ({bottom[0].ShapeString()}) and mask ({bottom[1].ShapeString()}) must have the same count, got {bottom[0].Count} and {bottom[1].Count}");
        Check(bottom[0].NumAxes >= 1 && bottom[0].Shape[0] > 0, "needs a batch axis with at least one sample");
        top[0].Reshape([]);
        int n = bottom[0].Shape[0];
        if (_intersection.Length != n)
        {
            _intersection = new double[n];
            _total = new double[n];
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        int n = bottom[0].Shape[0];
        int dim = bottom[0].Count / n;
        var p = bottom[0].Data;
        var g = bottom[1].Data;
        double diceSum = 0;
        for (int s = 0; s < n; s++)
        {
            double inter = 0, total = 0;
            for (int i = s * dim; i < (s + 1) * dim; i++)
            {
                inter += (double)p[i] * g[i];
                total += (double)p[i] + g[i];
            }
            _intersection[s] = inter;
            _total[s] = total;
            diceSum += (2 * inter + _smooth) / (total + _smooth);
        }
        top[0].Data[0] = (float)(1 - diceSum / n);
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (propagateDown[1])
        {
            throw Error("cannot backpropagate to the mask (bottom #1)");
        }
        if (!propagateDown[0])
        {
            return;
        }
        int n = bottom[0].Shape[0];
        int dim = bottom[0].Count / n;
        double weight = top[0].Diff[0];
        var g = bottom[1].Data;
        var grad = bottom[0].Diff;
        for (int s = 0; s < n; s++)
        {
            // dD/dp_i = (2·g_i·(T + s) − (2·I + s)) / (T + s)², with I = Σ p·g and T = Σ p + Σ g; E = 1 − mean D.
            double denominator = _total[s] + _smooth;
            double numerator = 2 * _intersection[s] + _smooth;
            double scale = -weight / n / (denominator * denominator);
            for (int i = s * dim; i < (s + 1) * dim; i++)
            {
                grad[i] = (float)(scale * (2 * g[i] * denominator - numerator));
            }
        }
    }
}
