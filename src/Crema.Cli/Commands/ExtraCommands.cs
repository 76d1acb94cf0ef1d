using System.CommandLine;

namespace Crema.Cli.Commands;

/// <summary>The data and conversion verbs.</summary>
internal static class ExtraCommands
{
    public static IEnumerable<Command> Create() =>
    [
        ConvertMnistCommand.Create(),
        ConvertImagesetCommand.Create(),
        ComputeImageMeanCommand.Create(),
        ExtractFeaturesCommand.Create(),
        ConvertCifarCommand.Create(),
        ConvertMnistSiameseCommand.Create(),
        DrawNetCommand.Create(),
        PlotTrainingLogCommand.Create(),
        .. UpgradeCommands.Create(),
    ];
}
