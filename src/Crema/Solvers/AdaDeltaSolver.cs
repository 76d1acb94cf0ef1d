using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Solvers;

/// <summary>AdaDelta: Eg² = μ·Eg² + (1−μ)·g²; u = g·√((EΔ² + δ)/(Eg² + δ)); EΔ² = μ·EΔ² + (1−μ)·u²; step = lr·u.</summary>
public sealed class AdaDeltaSolver : SgdSolver
{
    private readonly List<Blob> _updateHistory = [];

    public AdaDeltaSolver(SolverParameter param, string? baseDirectory = null) : base(param, baseDirectory)
    {
        foreach (var p in Net.LearnableParams)
        {
            _updateHistory.Add(new Blob(p.Shape.ToArray()));
        }
    }

    public override string Type => "AdaDelta";

    // Caffe saves the gradient averages for all params, then the update averages for all params.
    protected override IReadOnlyList<Blob> HistoryBlobs() => [.. History, .. _updateHistory];

    protected override void ComputeUpdateValue(int id, float rate)
    {
        var g = Net.LearnableParams[id].Diff;
        float localRate = rate * Net.ParamLrMults[id];
        float momentum = Param.Momentum;
        float delta = Param.Delta;
        var gradAvg = History[id].Data;
        var updateAvg = _updateHistory[id].Data;
        var temp = Temp[id].Data;
        TensorPrimitives.Multiply(g, g, temp);
        TensorPrimitives.Multiply(gradAvg, momentum, gradAvg);
        TensorPrimitives.MultiplyAdd(temp, 1 - momentum, gradAvg, gradAvg);
        for (int i = 0; i < g.Length; i++)
        {
            g[i] *= MathF.Sqrt((updateAvg[i] + delta) / (gradAvg[i] + delta));
        }
        TensorPrimitives.Multiply(g, g, temp);
        TensorPrimitives.Multiply(updateAvg, momentum, updateAvg);
        TensorPrimitives.MultiplyAdd(temp, 1 - momentum, updateAvg, updateAvg);
        TensorPrimitives.Multiply(g, localRate, g);
    }
}
