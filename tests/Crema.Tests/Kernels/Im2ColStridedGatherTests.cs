using System.Runtime.InteropServices;
using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>
/// The vector row paths of Im2Col2D against the naive twin — strided gathers (2..8), masked copies of padded stride-1
/// rows — at every row length 1..72 (vector bodies, overlapping last vectors, rows shorter than a vector), with padding
/// that cuts the rows, and with the image between unreadable pages, so a read outside it kills the run. Run under forced instruction sets by tests/run-isa-matrix.sh.
/// </summary>
public partial class Im2ColStridedGatherTests
{
    // Stride 1: the masked copies of rows cut by padding; 2: GatherEven; 3..8: the strided gathers; 9: the scalar loop.
    public static TheoryData<int> Strides => [1, 2, 3, 4, 5, 6, 7, 8, 9];

    [Theory]
    [MemberData(nameof(Strides))]
    public void EveryRowLength_MatchesNaiveTwin(int stride)
    {
        for (int outW = 1; outW <= 72; outW++)
        {
            // (kernel, pad): a 1-wide window unpadded reads exactly the row; a wider padded one cuts rows at both edges.
            foreach (var (kernel, pad) in new[] { (1, 0), (3, 1), (11, 0), (5, 2), (2, stride + 1) })
            {
                // The width that gives outW outputs, plus every remainder that still does (the row's unread tail).
                for (int extra = 0; extra < stride; extra += Math.Max(1, stride - 1))
                {
                    int width = ((outW - 1) * stride) + kernel - (2 * pad) + extra;
                    if (width < 1 || Im2Col.OutputSize(width, kernel, pad, stride, 1) != outW)
                    {
                        continue;
                    }
                    var shape = new Im2ColShape(2, 3, width, 1, kernel, 0, pad, 1, stride, 1, 1);
                    var im = TestBlobs.Gaussian(1701 + width, 1f, 2 * 3 * width).Data.ToArray();
                    AssertMatchesNaive(im, shape, $"stride {stride}, outW {outW}, width {width}, kernel {kernel}, pad {pad}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Strides))]
    public void SquareWindows_MatchNaiveTwin(int stride)
    {
        // CaffeNet conv1's 11×11 stride 4 on 227×227 (55 outputs a row) and smaller images with padding, for every stride.
        foreach (var (channels, size, kernel, pad) in new[] { (3, 227, 11, 0), (2, 61, 7, 3), (3, 35, 11, 1), (1, 40, 3, 0) })
        {
            var shape = new Im2ColShape(channels, size, size, kernel, kernel, pad, pad, stride, stride, 1, 1);
            if (shape.OutputWidth <= 0)
            {
                continue;
            }
            var im = TestBlobs.Gaussian(1702, 1f, channels * size * size).Data.ToArray();
            AssertMatchesNaive(im, shape, $"stride {stride}, {channels}×{size}², kernel {kernel}, pad {pad}");
        }
    }

    [Theory]
    [MemberData(nameof(Strides))]
    public unsafe void ImageBetweenUnreadablePages_IsNotReadOutside(int stride)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;  // mmap/mprotect below are Linux's; the other tests cover the values everywhere
        }
        const int page = 4096;
        for (int outW = 1; outW <= 72; outW++)
        {
            foreach (var (kernel, pad) in new[] { (1, 0), (3, 1), (5, 2) })
            {
                // One channel, two rows; unpadded, the last output of the last row reads the image's last float; padded,
                // the first and last windows hang over the image's ends (those columns must not be read at all).
                int width = ((outW - 1) * stride) + kernel - (2 * pad);
                if (width < 1 || Im2Col.OutputSize(width, kernel, pad, stride, 1) != outW)
                {
                    continue;
                }
                int floats = 2 * width;
                nint bytes = ((floats * sizeof(float)) + page - 1) / page * page;
                // [unreadable page][bytes][unreadable page]; the image first at the start of `bytes`, then at its end.
                nint map = Mmap(0, bytes + (2 * page), 3 /* PROT_READ | PROT_WRITE */, 0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0);
                Assert.NotEqual(-1, map);
                try
                {
                    Assert.Equal(0, Mprotect(map, page, 0 /* PROT_NONE */));
                    Assert.Equal(0, Mprotect(map + page + bytes, page, 0));
                    foreach (nint at in new[] { map + page, map + page + bytes - (floats * sizeof(float)) })
                    {
                        var im = new Span<float>((float*)at, floats);
                        TestBlobs.Gaussian(1703 + outW, 1f, floats).Data.CopyTo(im);
                        var shape = new Im2ColShape(1, 2, width, 1, kernel, 0, pad, 1, stride, 1, 1);
                        AssertMatchesNaive(im, shape, $"stride {stride}, outW {outW}, kernel {kernel}, pad {pad}");
                    }
                }
                finally
                {
                    Assert.Equal(0, Munmap(map, bytes + (2 * page)));
                }
            }
        }
    }

    private static void AssertMatchesNaive(ReadOnlySpan<float> im, in Im2ColShape shape, string what)
    {
        int count = shape.Channels * shape.KernelH * shape.KernelW * shape.OutputHeight * shape.OutputWidth;
        var expected = new float[count];
        var actual = Enumerable.Repeat(float.NaN, count).ToArray();
        Im2ColNaive.Im2Col2D(im, shape, expected);
        Im2Col.Im2Col2D(im, shape, actual);
        for (int i = 0; i < count; i++)
        {
            // Bitwise: a gather copies floats, so -0 stays -0 and no NaN (unwritten) slips through.
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
            {
                Assert.Fail($"{what}: col[{i}] = {actual[i]}, expected {expected[i]}");
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint address, nint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nint length);
}
