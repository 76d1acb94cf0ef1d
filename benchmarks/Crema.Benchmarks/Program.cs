using System.Runtime.CompilerServices;
using BenchmarkDotNet.Running;

namespace Crema.Benchmarks;

internal static class Program
{
    // Command modes first (compare.py runs them as plain processes, timed by hand); anything else goes to BenchmarkDotNet.
    private static int Main(string[] args) => args.Length == 0 ? RunBenchmarkDotNet(args) : args[0] switch
    {
        "sgemm-table" => SgemmTable.Run(args[1..]),
        "train-step" => TrainStep.Run(args[1..]),
        "winograd-table" => WinogradTable.Run(args[1..]),
        "smallm-table" => SmallMTable.Run(args[1..]),
        _ => RunBenchmarkDotNet(args),
    };

    // Kept out of Main so the command modes never load BenchmarkDotNet (it would count in train-step's memory figures).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int RunBenchmarkDotNet(string[] args)
    {
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
