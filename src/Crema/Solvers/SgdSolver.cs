using System.Numerics.Tensors;
using Crema.Kernels;
using Crema.Proto;

namespace Crema.Solvers;

/// <summary>
/// Stochastic gradient descent with momentum: v ← momentum·v + lr·lr_mult·g; w ← w − v. Also the base of Caffe's other
/// solvers: it owns gradient normalisation (iter_size), regularisation (L2/L1 weight decay) and clipping.
/// </summary>
public class SgdSolver : Solver
{
    public SgdSolver(SolverParameter param, string? baseDirectory = null) : base(param, baseDirectory)
    {
        foreach (var p in Net.LearnableParams)
        {
            History.Add(new Blob(p.Shape.ToArray()));
            Temp.Add(new Blob(p.Shape.ToArray()));
        }
    }

    public override string Type => "SGD";

    /// <summary>One history blob per learnable parameter (momentum for SGD; squared gradients for AdaGrad/RMSProp; first moments for Adam).</summary>
    protected List<Blob> History { get; } = [];

    /// <summary>Scratch per parameter (Caffe's update_ blobs), never saved.</summary>
    protected List<Blob> Temp { get; } = [];

    protected override IReadOnlyList<Blob> HistoryBlobs() => History;

    protected override void ApplyUpdate()
    {
        float rate = LearningRate();
        if (Param.Display > 0 && Iteration % Param.Display == 0)
        {
            Log.Info($"Iteration {Iteration}, lr = {Log.Num(rate)}");
        }
        // NOTE: Caffe clips before normalising and regularising (sgd_solver.cpp ApplyUpdate); fidelity keeps that order.
        ClipGradients();
        var parameters = Net.LearnableParams;
        if (FusedUpdate)
        {
            for (int i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                SolverKernels.SgdMomentum(p.Data, p.Diff, History[i].Data, Param.WeightDecay * Net.ParamDecayMults[i],
                    Param.Momentum, rate * Net.ParamLrMults[i]);
            }
            return;
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            Normalize(i);
            Regularize(i);
            ComputeUpdateValue(i, rate);
        }
        if (Net.DebugInfo)
        {
            Net.UpdateDebugInfo();
        }
        Net.Update();
    }

    // Plain SGD (not a subclass), L2 decay, no gradient accumulation and no debug lines: regularise, momentum and update
    // in one pass per parameter (SolverKernels.SgdMomentum), bit-identical to the separate steps below.
    private bool FusedUpdate => GetType() == typeof(SgdSolver) && Param.IterSize <= 1 && Param.RegularizationType == "L2" && !Net.DebugInfo;

    private void ClipGradients()
    {
        float clip = Param.ClipGradients;
        if (clip < 0)
        {
            return;
        }
        double sumsq = 0;
        foreach (var p in Net.LearnableParams)
        {
            sumsq += p.SumSquareDiff();
        }
        double norm = Math.Sqrt(sumsq);
        if (norm > clip)
        {
            float scale = (float)(clip / norm);
            Log.Info($"Gradient clipping: scaling down gradients (L2 norm {Log.Num(norm)} > {Log.Num(clip)}) by scale factor {Log.Num(scale)}");
            foreach (var p in Net.LearnableParams)
            {
                p.ScaleDiff(scale);
            }
        }
    }

    private void Normalize(int id)
    {
        if (Param.IterSize > 1)
        {
            Net.LearnableParams[id].ScaleDiff(1f / Param.IterSize);
        }
    }

    /// <summary>Adds weight decay to the gradient: L2 g += λ·w, L1 g += λ·sign(w), λ = weight_decay·decay_mult.</summary>
    protected virtual void Regularize(int id)
    {
        float decay = Param.WeightDecay * Net.ParamDecayMults[id];
        if (decay == 0)
        {
            return;
        }
        var p = Net.LearnableParams[id];
        switch (Param.RegularizationType)
        {
            case "L2":
                TensorPrimitives.MultiplyAdd(p.Data, decay, p.Diff, p.Diff);
                break;
            case "L1":
            {
                var temp = Temp[id].Data;
                var data = p.Data;
                for (int i = 0; i < data.Length; i++)
                {
                    temp[i] = data[i] > 0 ? 1f : data[i] < 0 ? -1f : 0f;
                }
                TensorPrimitives.MultiplyAdd(temp, decay, p.Diff, p.Diff);
                break;
            }
            default:
                throw new CremaException($"solver: unknown regularization_type \"{Param.RegularizationType}\" (known: L1, L2)");
        }
    }

    /// <summary>Turns the regularised gradient in diff into the step to subtract from the weights.</summary>
    protected virtual void ComputeUpdateValue(int id, float rate)
    {
        var p = Net.LearnableParams[id];
        float localRate = rate * Net.ParamLrMults[id];
        var history = History[id].Data;
        // v = lr·g + momentum·v; diff = v
        TensorPrimitives.Multiply(history, Param.Momentum, history);
        TensorPrimitives.MultiplyAdd(p.Diff, localRate, history, history);
        history.CopyTo(p.Diff);
    }
}
