using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Solvers;

/// <summary>RMSProp: h = ρ·h + (1−ρ)·g²; step = lr·g / (√h + δ), ρ = rms_decay.</summary>
public sealed class RmsPropSolver : SgdSolver
{
    public RmsPropSolver(SolverParameter param, string? baseDirectory = null) : base(param, baseDirectory)
    {
        if (param.Momentum != 0)
        {
            throw new CremaException("solver: momentum cannot be used with RMSProp");
        }
        if (param.RmsDecay is < 0 or > 1)
        {
            throw new CremaException($"solver: rms_decay must be in [0, 1] (got {param.RmsDecay})");
        }
    }

    public override string Type => "RMSProp";

    protected override void ComputeUpdateValue(int id, float rate)
    {
        var g = Net.LearnableParams[id].Diff;
        float localRate = rate * Net.ParamLrMults[id];
        float decay = Param.RmsDecay;
        var history = History[id].Data;
        var update = Temp[id].Data;
        TensorPrimitives.Multiply(g, g, update);
        TensorPrimitives.Multiply(history, decay, history);
        TensorPrimitives.MultiplyAdd(update, 1 - decay, history, history);
        TensorPrimitives.Sqrt(history, update);
        TensorPrimitives.Add(update, Param.Delta, update);
        TensorPrimitives.Divide(g, update, g);
        TensorPrimitives.Multiply(g, localRate, g);
    }
}
