using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Solvers;

/// <summary>Nesterov's accelerated gradient: v' = μ·v + lr·g; step = (1+μ)·v' − μ·v.</summary>
public sealed class NesterovSolver(SolverParameter param, string? baseDirectory = null) : SgdSolver(param, baseDirectory)
{
    public override string Type => "Nesterov";

    protected override void ComputeUpdateValue(int id, float rate)
    {
        var p = Net.LearnableParams[id];
        float localRate = rate * Net.ParamLrMults[id];
        float momentum = Param.Momentum;
        var history = History[id].Data;
        var previous = Temp[id].Data;
        history.CopyTo(previous);
        TensorPrimitives.Multiply(history, momentum, history);
        TensorPrimitives.MultiplyAdd(p.Diff, localRate, history, history);
        // diff = (1 + μ)·v' − μ·v
        TensorPrimitives.Multiply(history, 1 + momentum, p.Diff);
        TensorPrimitives.MultiplyAdd(previous, -momentum, p.Diff, p.Diff);
    }
}
