using System.CommandLine;
using Crema.Proto;

namespace Crema.Cli.Commands;

/// <summary>`upgrade_net_proto_text`, `upgrade_net_proto_binary`, `upgrade_solver_proto_text IN OUT`: rewrite old Caffe definitions in the current schema.</summary>
internal static class UpgradeCommands
{
    public static IEnumerable<Command> Create() =>
    [
        Net("upgrade_net_proto_text", "Upgrade a V0/V1 net .prototxt to the current format.", binary: false),
        Net("upgrade_net_proto_binary", "Upgrade a V0/V1 binary net (.caffemodel) to the current format.", binary: true),
        Solver(),
    ];

    private static Command Net(string name, string description, bool binary)
    {
        var input = new Argument<string>(binary ? "input_binary_proto" : "input_text_proto");
        var output = new Argument<string>(binary ? "output_binary_proto" : "output_text_proto");
        var command = new Command(name, description) { input, output };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            string inFile = r.GetValue(input)!;
            string outFile = r.GetValue(output)!;
            var net = binary
                ? ProtoFiles.ReadBinary(inFile, NetParameter.Parser, "Caffe NetParameter (.caffemodel)")
                : ProtoFiles.ReadText<NetParameter>(inFile);
            if (NetUpgrader.NeedsUpgrade(net))
            {
                Log.Info($"Attempting to upgrade input file specified using deprecated V0/V1 parameters: {inFile}");
                net = NetUpgrader.Upgrade(net, inFile);
                Log.Info($"Successfully upgraded file specified using deprecated V0/V1 parameters.");
            }
            else
            {
                Log.Error("File already in latest proto format.");
            }
            if (binary)
            {
                ProtoFiles.WriteBinaryAtomic(net, outFile);
                Log.Info($"Wrote upgraded NetParameter binary proto to {outFile}");
            }
            else
            {
                ProtoFiles.WriteTextAtomic(net, outFile);
                Log.Info($"Wrote upgraded NetParameter text proto to {outFile}");
            }
            return 0;
        }));
        return command;
    }

    private static Command Solver()
    {
        var input = new Argument<string>("input_text_proto");
        var output = new Argument<string>("output_text_proto");
        var command = new Command("upgrade_solver_proto_text", "Upgrade a solver .prototxt (solver_type enum → type string).") { input, output };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            string inFile = r.GetValue(input)!;
            string outFile = r.GetValue(output)!;
            var solver = ProtoFiles.ReadText<SolverParameter>(inFile);
            if (NetUpgrader.NeedsSolverUpgrade(solver))
            {
                Log.Info($"Attempting to upgrade input file specified using deprecated 'solver_type' field (enum)': {inFile}");
                NetUpgrader.UpgradeSolver(solver, inFile);
                Log.Info("Successfully upgraded file specified using deprecated 'solver_type' field (enum) to 'type' field (string).");
            }
            else
            {
                Log.Error("File already in latest proto format.");
            }
            ProtoFiles.WriteTextAtomic(solver, outFile);
            Log.Info($"Wrote upgraded SolverParameter text proto to {outFile}");
            return 0;
        }));
        return command;
    }
}
