using System.CommandLine;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crema.Cli.Commands;

/// <summary>`crema device_query`: the CPU Crema runs on and the SIMD width its kernels use.</summary>
internal static class DeviceQueryCommand
{
    public static Command Create()
    {
        var gpu = CommonOptions.Gpu();
        var command = new Command("device_query", "Show the CPU, its core count and the SIMD instruction sets Crema uses.") { gpu };
        command.SetAction(_ => CremaCommand.Guard(() =>
        {
            Log.Info("Querying CPU (Crema has no GPU backend)");
            Log.Info($"Model:                    {CpuModel()}");
            Log.Info($"Logical cores:            {Environment.ProcessorCount}");
            Log.Info($"Vector512 accelerated:    {Vector512.IsHardwareAccelerated} (AVX-512F {Avx512F.IsSupported})");
            Log.Info($"Vector256 accelerated:    {Vector256.IsHardwareAccelerated} (AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported})");
            int width = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 32;
            Log.Info($"SIMD width used:          {width} bits ({width / 32} floats)");
            Log.Info($"Runtime:                  {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
            return 0;
        }));
        return command;
    }

    private static string CpuModel()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (File.Exists(cpuinfo))
        {
            foreach (string line in File.ReadLines(cpuinfo))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
