using System.CommandLine;
using Crema.Drawing;
using Crema.Proto;

namespace Crema.Cli.Commands;

/// <summary>
/// `crema draw_net net.prototxt out.svg|png|dot [-rankdir LR] [-phase ALL]`: Caffe's python/draw_net.py, plus Netscope's
/// output shape, parameter count and FLOPs per layer (when the net can be built for its phase).
/// </summary>
internal static class DrawNetCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input_net_proto_file") { Description = "The net definition (.prototxt)." };
        var output = new Argument<string>("output_image_file") { Description = "The drawing: .svg, .png or .dot (Graphviz text)." };
        var rankdir = new Option<string>("--rankdir")
        {
            Description = "Direction data flows: LR (left to right), TB (top to bottom), BT or RL.",
            DefaultValueFactory = _ => "LR",
        };
        var phase = new Option<string>("--phase")
        {
            Description = "Which layers to draw: TRAIN, TEST or ALL (every layer, ignoring include/exclude rules).",
            DefaultValueFactory = _ => "ALL",
        };
        var command = new Command("draw_net", "Draw a net: layers, blobs, output shapes, parameter counts and FLOPs.") { input, output, rankdir, phase };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            string file = r.GetValue(input)!;
            string outFile = r.GetValue(output)!;
            var dir = Enum.TryParse<RankDir>(r.GetValue(rankdir), ignoreCase: true, out var d) && Enum.IsDefined(d)
                ? d : throw new CremaException($"unknown -rankdir '{r.GetValue(rankdir)}' (use LR, TB, BT or RL)");
            string phaseText = r.GetValue(phase)!.ToUpperInvariant();
            Phase? drawPhase = phaseText == "ALL" ? null : CommonOptions.ParsePhase(phaseText);
            var net = ProtoFiles.ReadNetText(file);
            var stats = Statistics(net, drawPhase, Path.GetDirectoryName(Path.GetFullPath(file)));
            var graph = NetGraph.Build(net, drawPhase, stats);
            Log.Info($"Drawing net to {outFile}");
            NetDrawing.Write(graph, outFile, dir);
            return 0;
        }));
        return command;
    }

    // Shapes and costs need a built net: the phase asked for, or for ALL both phases (TEST first, as deploy-like).
    private static Dictionary<string, LayerStats>? Statistics(NetParameter net, Phase? phase, string? baseDirectory)
    {
        Dictionary<string, LayerStats>? merged = null;
        foreach (var p in phase is { } one ? [one] : new[] { Phase.Test, Phase.Train })
        {
            var stats = NetStatistics.TryCollect(net, p, baseDirectory, out string? error);
            if (stats == null)
            {
                Log.Warning($"No shapes, parameter counts or FLOPs for the {p.ToString().ToUpperInvariant()} net: {error}");
                continue;
            }
            merged ??= new Dictionary<string, LayerStats>(StringComparer.Ordinal);
            foreach (var (name, s) in stats)
            {
                merged.TryAdd(name, s);
            }
        }
        return merged;
    }
}
