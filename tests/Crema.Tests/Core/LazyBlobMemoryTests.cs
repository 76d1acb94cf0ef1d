using Crema.Kernels;

namespace Crema.Tests.Core;

/// <summary>Blob memory is allocated on first use (as Caffe's SyncedMemory), once even under concurrent first touches; ScratchPool reuses arrays.</summary>
public class LazyBlobMemoryTests
{
    [Fact]
    public void Buffers_AreAllocatedOnFirstUse_AndZeroed()
    {
        var blob = new Blob(3, 4);
        Assert.False(blob.HasData);
        Assert.False(blob.HasDiff);
        Assert.All(blob.Data.ToArray(), v => Assert.Equal(0f, v));
        Assert.True(blob.HasData);
        Assert.False(blob.HasDiff);
        blob.Diff[5] = 2f;
        Assert.True(blob.HasDiff);
        Assert.Equal(2f, blob.Diff[5]);
    }

    [Fact]
    public void Reshape_Growth_DropsBuffers_ShrinkKeepsThem()
    {
        var blob = new Blob(10);
        blob.Data[0] = 1f;
        blob.Reshape(5);
        Assert.True(blob.HasData);
        Assert.Equal(1f, blob.Data[0]);
        blob.Reshape(20);
        Assert.False(blob.HasData);
        Assert.Equal(20, blob.Data.Length);
    }

    [Fact]
    public void ShareDiff_SharesOneBuffer_EvenBeforeEitherWasTouched()
    {
        var a = new Blob(8);
        var b = new Blob(8);
        b.ShareDiff(a);
        b.Diff[3] = 7f;
        Assert.Equal(7f, a.Diff[3]);
    }

    [Fact]
    public void ConcurrentFirstTouch_AllThreadsSeeTheSameBuffer()
    {
        for (int round = 0; round < 50; round++)
        {
            var blob = new Blob(1024);
            var seen = new FloatBuffer[4];
            Parallel.For(0, seen.Length, i => seen[i] = blob.DiffBuffer);
            Assert.All(seen, s => Assert.Same(seen[0], s));
        }
    }

    [Fact]
    public void ScratchPool_ReusesReturnedArrays_AndReplacesTooSmallOnes()
    {
        var pool = new ScratchPool();
        var first = pool.Rent(100);
        Assert.Equal(100, first.Length);
        pool.Return(first);
        Assert.Same(first, pool.Rent(60));
        pool.Return(first);
        var bigger = pool.Rent(1000);
        Assert.Equal(1000, bigger.Length);
        pool.Return(bigger);
        // The 100-float array was dropped when the larger one was made: the pool holds only what is needed at once.
        var a = pool.Rent(50);
        var b = pool.Rent(50);
        Assert.Same(bigger, a);
        Assert.NotSame(first, b);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(-1));
    }
}
