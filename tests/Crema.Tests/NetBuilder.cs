using Crema.Nets;
using Crema.Proto;
using Crema.Proto.TextFormat;

namespace Crema.Tests;

/// <summary>Builds nets from prototxt text for tests.</summary>
internal static class NetBuilder
{
    public static NetParameter Parse(string prototxt) => PrototxtParser.Parse<NetParameter>(prototxt, "test.prototxt");

    public static Net Build(string prototxt, Phase phase = Phase.Train, int level = 0, params string[] stages) =>
        new(Parse(prototxt), phase, null, level, stages);
}
