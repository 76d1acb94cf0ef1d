using Crema.Proto;

namespace Crema.Solvers;

/// <summary>Creates the solver a SolverParameter names (type string, or the legacy solver_type enum).</summary>
public static class SolverFactory
{
    private static readonly Dictionary<string, Func<SolverParameter, string?, Solver>> Types = new(StringComparer.Ordinal)
    {
        ["SGD"] = (p, d) => new SgdSolver(p, d),
        ["Nesterov"] = (p, d) => new NesterovSolver(p, d),
        ["AdaGrad"] = (p, d) => new AdaGradSolver(p, d),
        ["RMSProp"] = (p, d) => new RmsPropSolver(p, d),
        ["AdaDelta"] = (p, d) => new AdaDeltaSolver(p, d),
        ["Adam"] = (p, d) => new AdamSolver(p, d),
        ["AdamW"] = (p, d) => new AdamWSolver(p, d),
    };

    public static IReadOnlyCollection<string> Known => Types.Keys;

    public static Solver Create(SolverParameter param, string? baseDirectory = null)
    {
        string type = param.Type;
        if (param.HasSolverType && !param.HasType)
        {
            type = param.SolverType switch
            {
                SolverParameter.Types.SolverType.Nesterov => "Nesterov",
                SolverParameter.Types.SolverType.Adagrad => "AdaGrad",
                SolverParameter.Types.SolverType.Rmsprop => "RMSProp",
                SolverParameter.Types.SolverType.Adadelta => "AdaDelta",
                SolverParameter.Types.SolverType.Adam => "Adam",
                _ => "SGD",
            };
        }
        if (!Types.TryGetValue(type, out var factory))
        {
            throw new CremaException($"solver: unknown solver type \"{type}\" (known: {string.Join(", ", Types.Keys)})");
        }
        if (!param.HasLrPolicy)
        {
            throw new CremaException("solver: lr_policy is not set (known: " + string.Join(", ", LearningRatePolicy.Names) + ")");
        }
        return factory(param, baseDirectory);
    }

    /// <summary>Reads a solver prototxt and creates its solver; relative net paths are tried from the working folder, then the solver's folder.</summary>
    public static Solver FromFile(string path)
    {
        var param = Crema.Proto.ProtoFiles.ReadSolver(path);
        return Create(param, Path.GetDirectoryName(Path.GetFullPath(path)));
    }
}
