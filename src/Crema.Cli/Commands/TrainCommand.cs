using Crema.Proto;
using System.CommandLine;
using System.Runtime.InteropServices;
using Crema.Nets;
using Crema.Solvers;

namespace Crema.Cli.Commands;

/// <summary>`crema train -solver S [-weights W | -snapshot X]`: Caffe's train verb.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var solverOption = new Option<string>("--solver") { Description = "The solver definition protocol buffer text file." };
        var weights = CommonOptions.Weights();
        var snapshot = new Option<string>("--snapshot") { Description = "Resume training from this .solverstate." };
        var iterations = new Option<int>("--iterations") { Description = "Override max_iter (optional)." };
        var sigint = new Option<string>("--sigint_effect") { Description = "What Ctrl-C does: stop, snapshot or none.", DefaultValueFactory = _ => "stop" };
        var sighup = new Option<string>("--sighup_effect") { Description = "What SIGHUP does: stop, snapshot or none.", DefaultValueFactory = _ => "snapshot" };
        var level = CommonOptions.Level();
        var stage = CommonOptions.Stage();
        var log = CommonOptions.LogFile();
        var gpu = CommonOptions.Gpu();
        var mpi = new Option<bool>("--mpi") { Description = "Data-parallel training over MPI (on by itself under mpiexec; see README)." };
        var plot = new Option<string>("--plot") { Description = "Redraw a loss/accuracy chart (.png) after every display and test." };
        var command = new Command("train", "Train or finetune a model.") { solverOption, weights, snapshot, iterations, sigint, sighup, level, stage, log, gpu, mpi, plot };
        command.SetAction(r => CremaCommand.Guard(() => MpiTraining.AbortOnError(() =>
        {
            using var parallel = MpiTraining.Start(r.GetValue(mpi));
            if (parallel == null || parallel.Rank == 0)
            {
                // Rank 0 alone logs: other ranks must not truncate or interleave into the same -log_dir file.
                CommonOptions.OpenLog(r.GetValue(log));
            }
            string? solverFile = r.GetValue(solverOption);
            if (string.IsNullOrEmpty(solverFile))
            {
                throw new CremaException("Need a solver definition to train (-solver file.prototxt).");
            }
            string? weightFiles = r.GetValue(weights);
            string? snapshotFile = r.GetValue(snapshot);
            if (!string.IsNullOrEmpty(weightFiles) && !string.IsNullOrEmpty(snapshotFile))
            {
                throw new CremaException("Give a snapshot to resume training or weights to finetune but not both.");
            }
            var onSigint = ParseEffect(r.GetValue(sigint)!, "sigint_effect");
            var onSighup = ParseEffect(r.GetValue(sighup)!, "sighup_effect");
            var param = ProtoFiles.ReadSolver(solverFile);
            param.TrainState ??= new Proto.NetState();
            param.TrainState.Level = r.GetValue(level);
            param.TrainState.Stage.AddRange(CommonOptions.Stages(r.GetValue(stage)));
            if (r.GetResult(iterations) != null)
            {
                param.MaxIter = r.GetValue(iterations);
            }
            using var livePlot = r.GetValue(plot) is { Length: > 0 } plotFile ? new Plotting.LivePlot(plotFile) : null;
            Log.Info("Use CPU.");
            string? solverFolder = Path.GetDirectoryName(Path.GetFullPath(solverFile));
            using var solver = parallel != null ? parallel.CreateSolver(param, solverFolder) : SolverFactory.Create(param, solverFolder);

            var pending = SolverAction.None;
            void Request(SolverAction action)
            {
                if (action != SolverAction.None)
                {
                    pending = action;
                }
            }
            solver.ActionRequest = () =>
            {
                var action = pending;
                pending = SolverAction.None;
                return action;
            };
            Console.CancelKeyPress += (_, e) =>
            {
                // As Caffe: the handler is always installed, so -sigint_effect none ignores Ctrl-C.
                e.Cancel = true;
                Request(onSigint);
            };
            using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
            {
                ctx.Cancel = true;
                Request(onSighup);
            });

            if (!string.IsNullOrEmpty(snapshotFile))
            {
                Log.Info($"Resuming from {snapshotFile}");
                solver.Restore(snapshotFile);
            }
            else if (!string.IsNullOrEmpty(weightFiles))
            {
                foreach (string file in weightFiles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    Log.Info($"Finetuning from {file}");
                    solver.Net.CopyTrainedLayersFrom(file);
                    foreach (var testNet in solver.TestNets)
                    {
                        testNet.CopyTrainedLayersFrom(file);
                    }
                }
            }
            Log.Info("Starting Optimization");
            int startIter = solver.Iteration;
            using var bar = Progress.Start("train", solver.Param.MaxIter - startIter);
            if (bar != null)
            {
                solver.IterationCompleted += (s, _) => bar.Report(s.Iteration - startIter);
            }
            if (parallel != null)
            {
                parallel.Solve(solver);
            }
            else
            {
                solver.Solve();
            }
            Log.Info("Optimization Done.");
            return 0;
        })));
        return command;
    }

    private static SolverAction ParseEffect(string text, string flag) => text switch
    {
        "stop" => SolverAction.Stop,
        "snapshot" => SolverAction.Snapshot,
        "none" => SolverAction.None,
        _ => throw new CremaException($"-{flag}: unknown value '{text}' (use stop, snapshot or none)"),
    };
}
