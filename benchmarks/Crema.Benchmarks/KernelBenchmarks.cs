using BenchmarkDotNet.Attributes;
using Crema.Kernels;

namespace Crema.Benchmarks;

/// <summary>One 2-D convolution's im2col geometry: (C, H, W) input, square kernel, stride, pad.</summary>
public sealed record ConvShape(string Name, int Channels, int Height, int Width, int Kernel, int Stride, int Pad)
{
    public int OutH => Im2Col.OutputSize(Height, Kernel, Pad, Stride, 1);

    public int OutW => Im2Col.OutputSize(Width, Kernel, Pad, Stride, 1);

    public int ColCount => Channels * Kernel * Kernel * OutH * OutW;

    public override string ToString() => Name;
}

/// <summary>Im2Col2D / Col2Im2D per image against their plain-loop twins (Im2ColNaive) at the reference nets' shapes.</summary>
[MemoryDiagnoser]
public class Im2ColBenchmarks
{
    private float[] _im = [], _col = [];
    private Im2ColShape _geometry;

    public static IEnumerable<ConvShape> Shapes =>
    [
        new("LeNet conv2 5x5", 20, 12, 12, 5, 1, 0),
        new("CIFAR conv2 5x5 p2", 32, 16, 16, 5, 1, 2),
        new("CaffeNet conv1 11x11 s4", 3, 227, 227, 11, 4, 0),
        new("CaffeNet conv3 3x3 p1", 256, 13, 13, 3, 1, 1),
    ];

    [ParamsSource(nameof(Shapes))]
    public ConvShape Shape { get; set; } = new("none", 1, 1, 1, 1, 1, 0);

    [GlobalSetup]
    public void Setup()
    {
        _im = BenchData.Random(Shape.Channels * Shape.Height * Shape.Width, 1701);
        _col = BenchData.Random(Shape.ColCount, 1702);
        var s = Shape;
        _geometry = new Im2ColShape(s.Channels, s.Height, s.Width, s.Kernel, s.Kernel, s.Pad, s.Pad, s.Stride, s.Stride, 1, 1);
    }

    [Benchmark(Baseline = true, Description = "im2col naive")]
    public void Im2ColNaiveLoop()
    {
        Im2ColNaive.Im2Col2D(_im, _geometry, _col);
    }

    [Benchmark(Description = "im2col")]
    public void Im2ColFast()
    {
        Im2Col.Im2Col2D(_im, _geometry, _col);
    }

    [Benchmark(Description = "col2im naive")]
    public void Col2ImNaiveLoop()
    {
        Im2ColNaive.Col2Im2D(_col, _geometry, _im);
    }

    [Benchmark(Description = "col2im")]
    public void Col2ImFast()
    {
        Im2Col.Col2Im2D(_col, _geometry, _im);
    }
}

/// <summary>Max pooling of a whole batch (N·C planes) against the plain-loop twin (PoolingNaive).</summary>
[MemoryDiagnoser]
public class PoolingBenchmarks
{
    private float[] _x = [], _y = [];
    private int[] _mask = [];

    /// <summary>(name, planes, H, W, kernel, stride): pooled sizes rounded up as Caffe does.</summary>
    public static IEnumerable<ConvShape> Shapes =>
    [
        // Channels holds the plane count (N·C) here.
        new("LeNet pool1 b64", 64 * 20, 24, 24, 2, 2, 0),
        new("CIFAR pool1 b100", 100 * 32, 32, 32, 3, 2, 0),
        new("CaffeNet pool1 b10", 10 * 96, 55, 55, 3, 2, 0),
    ];

    [ParamsSource(nameof(Shapes))]
    public ConvShape Shape { get; set; } = new("none", 1, 1, 1, 1, 1, 0);

    private PoolShape Pool
    {
        get
        {
            var s = Shape;
            int ph = ((s.Height - s.Kernel + s.Stride - 1) / s.Stride) + 1, pw = ((s.Width - s.Kernel + s.Stride - 1) / s.Stride) + 1;
            return new PoolShape(s.Height, s.Width, ph, pw, s.Kernel, s.Kernel, s.Stride, s.Stride, 0, 0);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var p = Pool;
        _x = BenchData.Random(Shape.Channels * p.PlaneIn, 1701);
        _y = new float[Shape.Channels * p.PlaneOut];
        _mask = new int[_y.Length];
    }

    [Benchmark(Baseline = true, Description = "max forward naive")]
    public void MaxNaive() => PoolingNaive.MaxForward(_x, Shape.Channels, Pool, _y, _mask);

    [Benchmark(Description = "max forward")]
    public void Max() => Pooling.MaxForward(_x, Shape.Channels, Pool, _y, _mask);
}

internal static class BenchData
{
    public static float[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.NextSingle() - 0.5f;
        }
        return x;
    }
}
