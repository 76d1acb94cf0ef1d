using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Solvers;

/// <summary>Adam: m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; step = lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + ε), β₁ = momentum, β₂ = momentum2, ε = delta.</summary>
public class AdamSolver : SgdSolver
{
    private readonly List<Blob> _secondMoments = [];

    public AdamSolver(SolverParameter param, string? baseDirectory = null) : base(param, baseDirectory)
    {
        foreach (var p in Net.LearnableParams)
        {
            _secondMoments.Add(new Blob(p.Shape.ToArray()));
        }
    }

    public override string Type => "Adam";

    // Caffe saves the first moments for all params, then the second moments.
    protected override IReadOnlyList<Blob> HistoryBlobs() => [.. History, .. _secondMoments];

    protected override void ComputeUpdateValue(int id, float rate)
    {
        var g = Net.LearnableParams[id].Diff;
        float localRate = rate * Net.ParamLrMults[id];
        float beta1 = Param.Momentum;
        float beta2 = Param.Momentum2;
        int t = Iteration + 1;
        float correction = (float)(Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t)));
        var m = History[id].Data;
        var v = _secondMoments[id].Data;
        var temp = Temp[id].Data;
        TensorPrimitives.Multiply(m, beta1, m);
        TensorPrimitives.MultiplyAdd(g, 1 - beta1, m, m);
        TensorPrimitives.Multiply(g, g, temp);
        TensorPrimitives.Multiply(v, beta2, v);
        TensorPrimitives.MultiplyAdd(temp, 1 - beta2, v, v);
        TensorPrimitives.Sqrt(v, temp);
        TensorPrimitives.Add(temp, Param.Delta, temp);
        TensorPrimitives.Divide(m, temp, g);
        TensorPrimitives.Multiply(g, localRate * correction, g);
        AfterAdamStep(id, localRate);
    }

    /// <summary>Hook for AdamW's decoupled decay.</summary>
    protected virtual void AfterAdamStep(int id, float localRate)
    {
    }
}
