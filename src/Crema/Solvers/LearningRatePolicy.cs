using Crema.Proto;

namespace Crema.Solvers;

/// <summary>Caffe's lr_policy rules: fixed, step, exp, inv, multistep, poly, sigmoid.</summary>
public static class LearningRatePolicy
{
    public static readonly IReadOnlyList<string> Names = ["fixed", "step", "exp", "inv", "multistep", "poly", "sigmoid"];

    /// <summary>The rate at <paramref name="iter"/>; <paramref name="currentStep"/> is multistep's position, advanced here as Caffe does.</summary>
    public static float Rate(SolverParameter p, int iter, ref int currentStep)
    {
        double baseLr = p.BaseLr;
        switch (p.LrPolicy)
        {
            case "fixed":
                return (float)baseLr;
            case "step":
                if (p.Stepsize <= 0)
                {
                    throw new CremaException($"lr_policy \"step\" needs stepsize > 0 (got {p.Stepsize})");
                }
                currentStep = iter / p.Stepsize;
                return (float)(baseLr * Math.Pow(p.Gamma, currentStep));
            case "exp":
                return (float)(baseLr * Math.Pow(p.Gamma, iter));
            case "inv":
                return (float)(baseLr * Math.Pow(1.0 + (double)p.Gamma * iter, -(double)p.Power));
            case "multistep":
                if (currentStep < p.Stepvalue.Count && iter >= p.Stepvalue[currentStep])
                {
                    currentStep++;
                    Log.Info($"MultiStep Status: Iteration {iter}, step = {currentStep}");
                }
                return (float)(baseLr * Math.Pow(p.Gamma, currentStep));
            case "poly":
                if (p.MaxIter <= 0)
                {
                    throw new CremaException($"lr_policy \"poly\" needs max_iter > 0 (got {p.MaxIter})");
                }
                return (float)(baseLr * Math.Pow(1.0 - (double)iter / p.MaxIter, p.Power));
            case "sigmoid":
                return (float)(baseLr * (1.0 / (1.0 + Math.Exp(-(double)p.Gamma * (iter - p.Stepsize)))));
            default:
                throw new CremaException($"unknown lr_policy \"{p.LrPolicy}\" (known: {string.Join(", ", Names)})");
        }
    }
}
