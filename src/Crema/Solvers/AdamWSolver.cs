using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Solvers;

/// <summary>AdamW (Crema extension): Adam on the raw gradient, then w −= lr·λ·w (decoupled weight decay, Loshchilov &amp; Hutter).</summary>
public sealed class AdamWSolver(SolverParameter param, string? baseDirectory = null) : AdamSolver(param, baseDirectory)
{
    public override string Type => "AdamW";

    // Decay is applied to the weights directly, not mixed into the gradient.
    protected override void Regularize(int id)
    {
    }

    protected override void AfterAdamStep(int id, float localRate)
    {
        float decay = Param.WeightDecay * Net.ParamDecayMults[id];
        if (decay != 0)
        {
            var p = Net.LearnableParams[id];
            TensorPrimitives.MultiplyAdd(p.Data, localRate * decay, p.Diff, p.Diff);
        }
    }
}
