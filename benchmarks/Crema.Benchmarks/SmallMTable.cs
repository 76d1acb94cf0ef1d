using System.Diagnostics;
using System.Numerics.Tensors;
using Crema.Kernels;

namespace Crema.Benchmarks;

/// <summary>
/// `smallm-table`: InnerProduct at batch 1–10 is bound by reading its weights. Times Gemm.SgemmSmallM (B transposed,
/// InnerProduct's layout) on CaffeNet's and VGG16's fully connected shapes against the machine's streaming read rate
/// (a sum over the same bytes on the same threads) and Gemm.SgemmPacked on the weights prepacked once (what a frozen
/// InnerProduct runs from 4 rows on), interleaved, median of --samples; GB/s = weight bytes / time.
///   smallm-table [--threads 2] [--samples 15] [--rows 1,10]
/// </summary>
internal static class SmallMTable
{
    private static readonly (string Name, int N, int K)[] Shapes =
    [
        ("caffenet fc6", 4096, 9216), ("caffenet fc7", 4096, 4096), ("caffenet fc8", 1000, 4096), ("vgg16 fc6", 4096, 25088),
    ];

    public static int Run(string[] args)
    {
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            o[args[i].TrimStart('-')] = args[i + 1];
        }
        int threads = o.TryGetValue("threads", out var t) ? int.Parse(t) : Environment.ProcessorCount;
        int samples = o.TryGetValue("samples", out var s) ? int.Parse(s) : 15;
        int[] rows = (o.TryGetValue("rows", out var r) ? r : "1,10").Split(',').Select(int.Parse).ToArray();
        Gemm.ThreadCount = threads;
        Console.WriteLine($"# SgemmSmallM vs streaming sum, threads={Gemm.ThreadCount}, path={Gemm.Path}");
        Console.WriteLine($"{"shape",-14} {"m",3} {"MB",7} {"smallM ms",10} {"GB/s",6} {"packed ms",10} {"GB/s",6} {"sum ms",8} {"GB/s",6}");
        var rng = new Random(1701);
        foreach (var (name, n, k) in Shapes)
        {
            var b = new float[(long)n * k];
            for (int i = 0; i < b.Length; i++)
            {
                b[i] = rng.NextSingle() - 0.5f;
            }
            var packed = Gemm.Prepack(true, k, n, b);
            foreach (int m in rows)
            {
                var a = new float[m * k];
                var c = new float[m * n];
                a.AsSpan().Fill(0.5f);
                var tm = new double[samples];
                var ts = new double[samples];
                var tp = new double[samples];
                Gemm.SgemmPacked(false, m, a, packed, c);
                Gemm.SgemmSmallM(true, m, n, k, a, b, default, c);
                StreamSum(b, threads);
                for (int i = 0; i < samples; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    Gemm.SgemmSmallM(true, m, n, k, a, b, default, c);
                    tm[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    t0 = Stopwatch.GetTimestamp();
                    StreamSum(b, threads);
                    ts[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    t0 = Stopwatch.GetTimestamp();
                    Gemm.SgemmPacked(false, m, a, packed, c);
                    tp[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                }
                Array.Sort(tp);
                Array.Sort(tm);
                Array.Sort(ts);
                double mb = b.Length * 4.0 / 1e6, med = tm[samples / 2], sum = ts[samples / 2], pk = tp[samples / 2];
                Console.WriteLine($"{name,-14} {m,3} {mb,7:F1} {med,10:F2} {mb / med,6:F1} {pk,10:F2} {mb / pk,6:F1} {sum,8:F2} {mb / sum,6:F1}");
            }
        }
        return 0;
    }

    private static float s_sink;

    // The streaming read rate: each thread sums its contiguous half.
    private static void StreamSum(float[] b, int threads)
    {
        var partial = new float[threads];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, p =>
        {
            long n0 = b.LongLength * p / threads, n1 = b.LongLength * (p + 1) / threads;
            partial[p] = TensorPrimitives.Sum(b.AsSpan((int)n0, (int)(n1 - n0)));
        });
        s_sink += partial.Sum();
    }
}
