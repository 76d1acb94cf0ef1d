using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Solvers;

/// <summary>AdaGrad: h += g²; step = lr·g / (√h + δ).</summary>
public sealed class AdaGradSolver : SgdSolver
{
    public AdaGradSolver(SolverParameter param, string? baseDirectory = null) : base(param, baseDirectory)
    {
        if (param.Momentum != 0)
        {
            throw new CremaException("solver: momentum cannot be used with AdaGrad");
        }
    }

    public override string Type => "AdaGrad";

    protected override void ComputeUpdateValue(int id, float rate)
    {
        var g = Net.LearnableParams[id].Diff;
        float localRate = rate * Net.ParamLrMults[id];
        var history = History[id].Data;
        var update = Temp[id].Data;
        TensorPrimitives.MultiplyAdd(g, g, history, history);
        TensorPrimitives.Sqrt(history, update);
        TensorPrimitives.Add(update, Param.Delta, update);
        TensorPrimitives.Divide(g, update, g);
        TensorPrimitives.Multiply(g, localRate, g);
    }
}
