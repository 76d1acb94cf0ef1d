using Crema.Proto;

namespace Crema.Nets;

/// <summary>Reads net and solver definitions from prototxt files (upgrading legacy formats). Placeholder until the text parser lands.</summary>
public static class NetFiles
{
    public static NetParameter ReadText(string path) => throw new CremaException($"{path}: prototxt reading not available yet");

    public static SolverParameter ReadSolver(string path) => throw new CremaException($"{path}: prototxt reading not available yet");
}
