using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>The shared worker pool: every part runs exactly once, nested calls run serially, exceptions reach the caller.</summary>
public class WorkerPoolTests
{
    private sealed class Recorder(int parts) : IPartitionedWork
    {
        public readonly int[] Runs = new int[parts];
        public int? ThrowOnPart;
        public IPartitionedWork? Nested;

        public void RunPart(int part, int count)
        {
            Interlocked.Increment(ref Runs[part]);
            if (Nested is not null)
            {
                WorkerPool.Run(3, Nested);
            }
            if (part == ThrowOnPart)
            {
                throw new InvalidOperationException($"part {part}");
            }
        }
    }

    [Fact]
    public void EveryPartRunsOnce_AndNestedWorkRunsInline()
    {
        var inner = new Recorder(3);
        var outer = new Recorder(2) { Nested = inner };
        for (int i = 0; i < 50; i++)
        {
            WorkerPool.Run(2, outer);
        }
        Assert.All(outer.Runs, r => Assert.Equal(50, r));
        Assert.All(inner.Runs, r => Assert.Equal(100, r));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void ExceptionInAPart_ReachesTheCaller_AndThePoolStaysUsable(int failingPart)
    {
        var failing = new Recorder(2) { ThrowOnPart = failingPart };
        var e = Assert.Throws<InvalidOperationException>(() => WorkerPool.Run(2, failing));
        Assert.Equal($"part {failingPart}", e.Message);
        var ok = new Recorder(2);
        WorkerPool.Run(2, ok);
        Assert.All(ok.Runs, r => Assert.Equal(1, r));
    }
}
