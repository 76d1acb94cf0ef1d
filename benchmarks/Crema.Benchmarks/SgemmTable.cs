using System.Diagnostics;
using Crema.Kernels;

namespace Crema.Benchmarks;

/// <summary>
/// `sgemm-table`: the twin of benchmarks/peers/sgemm_bench.c for Gemm.Sgemm, same shapes, cases, method and output
/// format, so compare.py can put the two side by side. Method: one warm-up call, reps doubled until one sample takes
/// at least --min-ms (50), then --samples (15) samples; GFLOP/s = 2·M·N·K / time per call; median and best.
/// Run it with DOTNET_TieredCompilation=0 (compare.py does) so nothing is measured in tier-0 code.
/// </summary>
internal static class SgemmTable
{
    /// <summary>The shapes of sgemm_bench.c, in its order, with its names and filter keys.</summary>
    public static readonly (string Key, string Name, int M, int N, int K)[] Shapes =
    [
        ("lenet_conv1", "LeNet conv1 (per image)", 20, 576, 25),
        ("lenet_conv2", "LeNet conv2 (per image)", 50, 64, 500),
        ("lenet_ip1", "LeNet ip1 (batch 64)", 500, 64, 800),
        ("alex_conv1", "AlexNet conv1 (per image)", 96, 3025, 363),
        ("alex_conv2", "AlexNet conv2 (per image, full)", 256, 729, 2400),
        ("alex_conv3", "AlexNet conv3 (per image)", 384, 169, 2304),
        ("alex_fc6", "AlexNet fc6 (batch 10)", 4096, 10, 9216),
        ("sq512", "square", 512, 512, 512),
        ("sq1024", "square", 1024, 1024, 1024),
        ("sq2048", "square", 2048, 2048, 2048),
    ];

    // Not in sgemm_bench.c: inference shapes at batch 1 (a 1×1 convolution is W·X with N = H·W), run only when named
    // (or with --shapes extra); any other shape as MxNxK, e.g. --shapes 512x49x2048.
    private static readonly (string Key, string Name, int M, int N, int K)[] Extra =
    [
        ("r4_1x1a", "ResNet-50 res4 1x1 (1024->256, 14x14)", 256, 196, 1024),
        ("r4_1x1c", "ResNet-50 res4 1x1 (256->1024, 14x14)", 1024, 196, 256),
        ("r4_3x3", "ResNet-50 res4 3x3 im2col (14x14)", 256, 196, 2304),
        ("r5_1x1a", "ResNet-50 res5 1x1 (2048->512, 7x7)", 512, 49, 2048),
        ("r5_1x1c", "ResNet-50 res5 1x1 (512->2048, 7x7)", 2048, 49, 512),
        ("r5_3x3", "ResNet-50 res5 3x3 im2col (7x7)", 512, 49, 4608),
        ("sq_f9e3", "SqueezeNet fire9 expand3x3 (13x13)", 256, 169, 576),
        ("sq_f2e3", "SqueezeNet fire2 expand3x3 (55x55)", 64, 3025, 144),
    ];

    private static readonly string[] Cases = ["NN", "NT", "TN", "TT"];

    private const string Usage =
        "usage: sgemm-table [--threads T] [--cases NN,NT,TN,TT|all] [--shapes key,...|all] [--min-ms 50] [--samples 15]\n" +
        "shape keys: lenet_conv1 lenet_conv2 lenet_ip1 alex_conv1 alex_conv2 alex_conv3 alex_fc6 sq512 sq1024 sq2048;\n" +
        "extra (only when named): r4_1x1a r4_1x1c r4_3x3 r5_1x1a r5_1x1c r5_3x3 sq_f9e3 sq_f2e3, 'extra' for all of them, or MxNxK";

    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount;
        string cases = "all", shapes = "all";
        double minMs = 50;
        int samples = 15;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : "";
            switch (args[i])
            {
                case "--threads": threads = int.Parse(value); i++; break;
                case "--cases": cases = value; i++; break;
                case "--shapes": shapes = value; i++; break;
                case "--min-ms": minMs = double.Parse(value); i++; break;
                case "--samples": samples = int.Parse(value); i++; break;
                default:
                    Console.Error.WriteLine($"sgemm-table: unknown argument '{args[i]}'\n{Usage}");
                    return 2;
            }
        }
        if (threads < 1 || samples < 1 || minMs <= 0)
        {
            Console.Error.WriteLine($"sgemm-table: --threads, --samples and --min-ms must be positive\n{Usage}");
            return 2;
        }
        string[] unknown = [.. Split(shapes).Where(k => k != "all" && k != "extra" && ParseCustom(k) is null
                && !Shapes.Any(s => s.Key == k) && !Extra.Any(s => s.Key == k))
            .Concat(Split(cases).Where(c => c != "all" && !Cases.Contains(c)))];
        if (unknown.Length > 0)
        {
            Console.Error.WriteLine($"sgemm-table: unknown shape or case {string.Join(", ", unknown)}\n{Usage}");
            return 2;
        }

        Gemm.ThreadCount = threads;
        Console.WriteLine($"# Crema Gemm path={Gemm.Path} threads={Gemm.ThreadCount} processors={Environment.ProcessorCount} " +
            $"tiered-compilation={TieredCompilationSetting()}");
        Console.WriteLine($"{"shape",-34} {"case",-4} {"M",5} {"N",5} {"K",5} {"med GF/s",10} {"best GF/s",10} {"med us",10}");
        var rng = new Random(1701);
        var custom = Split(shapes).Select(ParseCustom).Where(t => t is not null).Select(t => t!.Value);
        foreach (var (key, name, m, n, k) in Shapes.Where(s => Selected(shapes, s.Key))
            .Concat(Extra.Where(s => Split(shapes).Any(x => x == "extra" || x == s.Key))).Concat(custom))
        {
            var a = new float[m * k];
            var b = new float[k * n];
            var c = new float[m * n];
            for (int i = 0; i < a.Length; i++)
            {
                a[i] = rng.NextSingle() - 0.5f;
            }
            for (int i = 0; i < b.Length; i++)
            {
                b[i] = rng.NextSingle() - 0.5f;
            }
            double flop = 2.0 * m * n * k;
            foreach (string cs in Cases)
            {
                if (!Selected(cases, cs))
                {
                    continue;
                }
                bool ta = cs[0] == 'T', tb = cs[1] == 'T';
                Gemm.Sgemm(ta, tb, m, n, k, 1f, a, b, 0f, c); // warm-up
                int reps = 1;
                while (Time(ta, tb, m, n, k, a, b, c, reps) * 1e3 <= minMs)
                {
                    reps *= 2;
                }
                var g = new double[samples];
                for (int s = 0; s < samples; s++)
                {
                    g[s] = flop / (Time(ta, tb, m, n, k, a, b, c, reps) / reps) / 1e9;
                }
                Array.Sort(g);
                double median = g[samples / 2];
                Console.WriteLine($"{name,-34} {cs,-4} {m,5} {n,5} {k,5} {median,10:F1} {g[^1],10:F1} {flop / median / 1e3,10:F1}");
            }
        }
        return 0;
    }

    private static double Time(bool ta, bool tb, int m, int n, int k, float[] a, float[] b, float[] c, int reps)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int r = 0; r < reps; r++)
        {
            Gemm.Sgemm(ta, tb, m, n, k, 1f, a, b, 0f, c);
        }
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    private static (string Key, string Name, int M, int N, int K)? ParseCustom(string key)
    {
        string[] d = key.Split('x');
        return d.Length == 3 && int.TryParse(d[0], out int m) && int.TryParse(d[1], out int n) && int.TryParse(d[2], out int k)
            && m > 0 && n > 0 && k > 0
            ? (key, "custom", m, n, k)
            : null;
    }

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool Selected(string list, string key) => Split(list).Any(x => x == "all" || x == key);

    /// <summary>"off" when DOTNET_TieredCompilation=0 (or the runtimeconfig switch) disables tiering, else "on".</summary>
    internal static string TieredCompilationSetting()
    {
        string? env = Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") ?? Environment.GetEnvironmentVariable("COMPlus_TieredCompilation");
        if (env is not null)
        {
            return env == "0" ? "off" : "on";
        }
        return AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out bool on) && !on ? "off" : "on";
    }
}
