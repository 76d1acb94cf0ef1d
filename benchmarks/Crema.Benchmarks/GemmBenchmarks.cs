using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Crema.Kernels;

namespace Crema.Benchmarks;

/// <summary>One SGEMM problem: C (M, N) = A (M, K) · B (K, N), row-major, no transposes.</summary>
public sealed record GemmShape(string Name, int M, int N, int K)
{
    public double Flop => 2.0 * M * N * K;

    public override string ToString() => Name;
}

/// <summary>
/// Gemm.Sgemm on squares and im2col-shaped convolution GEMMs, with all threads and with one.
/// The GFLOP/s column is 2·M·N·K / median time. Against OpenBLAS in the same run, all four transpose cases:
/// benchmarks/compare.sh (the sgemm-table command mode beside peers/sgemm_bench.c, same shapes and method).
/// </summary>
[Config(typeof(GemmConfig))]
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    public static IEnumerable<GemmShape> Shapes =>
    [
        new("256²", 256, 256, 256),
        new("512²", 512, 512, 512),
        new("1024²", 1024, 1024, 1024),
        new("LeNet conv2", 50, 64, 500),          // 50 filters, 8×8 output, 20·5·5 inputs
        new("CaffeNet conv1", 96, 3025, 363),     // 96 filters, 55×55 output, 3·11·11 inputs
        new("CaffeNet conv2 g2", 128, 729, 1200), // per group: 128 filters, 27×27 output, 48·5·5 inputs
        new("CaffeNet conv3", 384, 169, 2304),    // 384 filters, 13×13 output, 256·3·3 inputs
    ];

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = new("none", 0, 0, 0);

    [GlobalSetup]
    public void Setup() => (_a, _b, _c) = GemmData.Create(Shape);

    [Benchmark(Description = "Sgemm")]
    public void Sgemm() => Gemm.Sgemm(false, false, Shape.M, Shape.N, Shape.K, 1f, _a, _b, 0f, _c);

    [Benchmark(Description = "Sgemm 1 thread")]
    public void SgemmOneThread()
    {
        int saved = Gemm.ThreadCount;
        Gemm.ThreadCount = 1;
        Gemm.Sgemm(false, false, Shape.M, Shape.N, Shape.K, 1f, _a, _b, 0f, _c);
        Gemm.ThreadCount = saved;
    }
}

/// <summary>Gemm.Sgemm against its naive twin on shapes small enough for the triple loop.</summary>
[Config(typeof(GemmConfig))]
public class GemmVsNaiveBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    public static IEnumerable<GemmShape> Shapes =>
    [
        new("LeNet conv2", 50, 64, 500),
        new("128²", 128, 128, 128),
        new("256²", 256, 256, 256),
    ];

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = new("none", 0, 0, 0);

    [GlobalSetup]
    public void Setup() => (_a, _b, _c) = GemmData.Create(Shape);

    [Benchmark(Baseline = true, Description = "GemmNaive")]
    public void Naive() => GemmNaive.Sgemm(false, false, Shape.M, Shape.N, Shape.K, 1f, _a, _b, 0f, _c);

    [Benchmark(Description = "Sgemm")]
    public void Sgemm() => Gemm.Sgemm(false, false, Shape.M, Shape.N, Shape.K, 1f, _a, _b, 0f, _c);
}

internal static class GemmData
{
    public static (float[] A, float[] B, float[] C) Create(GemmShape s)
    {
        var rng = new Random(1701);
        var a = new float[s.M * s.K];
        var b = new float[s.K * s.N];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = rng.NextSingle() - 0.5f;
        }

        for (int i = 0; i < b.Length; i++)
        {
            b[i] = rng.NextSingle() - 0.5f;
        }

        return (a, b, new float[s.M * s.N]);
    }
}

internal sealed class GemmConfig : ManualConfig
{
    public GemmConfig() => AddColumn(new GflopsColumn());
}

/// <summary>2·M·N·K / median time, from the benchmark's <see cref="GemmShape"/> parameter.</summary>
internal sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);

    public string ColumnName => "GFLOP/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "2·M·N·K floating-point operations per second at the median time, in billions";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? medianNs = summary[benchmarkCase]?.ResultStatistics?.Median;
        if (medianNs is not > 0 || benchmarkCase.Parameters["Shape"] is not GemmShape shape)
        {
            return "-";
        }

        return (shape.Flop / medianNs.Value).ToString("F1", CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
