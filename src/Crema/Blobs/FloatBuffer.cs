using System.Runtime.InteropServices;

namespace Crema;

/// <summary>
/// A 64-byte aligned block of native float32 memory (AVX-512 friendly), freed by Dispose or the finalizer.
/// Blobs count their references (<see cref="Retain"/> / <see cref="Release"/>): a buffer shared by several blobs
/// (ShareData, shared params, Split) is freed when the last of them lets go, never twice.
/// </summary>
public sealed unsafe class FloatBuffer : IDisposable
{
    private static long s_liveBytes;
    private float* _ptr;
    private int _references = 1;

    /// <summary>Bytes held by all live (not yet freed) buffers in the process: blob memory, for memory accounting.</summary>
    public static long LiveBytes => Interlocked.Read(ref s_liveBytes);

    public FloatBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        // NOTE: allocate at least one cache line so the pointer is never null.
        MemoryGuard.CheckAllocation(length * sizeof(float));
        nuint bytes = (nuint)Math.Max(64, length * sizeof(float));
        _ptr = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_ptr, bytes);
        GC.AddMemoryPressure((long)bytes);
        Interlocked.Add(ref s_liveBytes, (long)bytes);
    }

    ~FloatBuffer() => Free();

    public long Length { get; }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "it is the raw pointer, and says so")]
    public float* Pointer => _ptr;

    public Span<float> Span => new(_ptr, checked((int)Length));

    /// <summary>One more holder (the creator holds the first reference).</summary>
    internal FloatBuffer Retain()
    {
        Interlocked.Increment(ref _references);
        return this;
    }

    /// <summary>Drops one reference; the last frees the memory.</summary>
    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Dispose();
        }
    }

    /// <summary>Frees the memory now, whoever else holds it; blobs use <see cref="Release"/>.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_ptr != null)
        {
            NativeMemory.AlignedFree(_ptr);
            GC.RemoveMemoryPressure(Math.Max(64, Length * sizeof(float)));
            Interlocked.Add(ref s_liveBytes, -Math.Max(64, Length * sizeof(float)));
            _ptr = null;
        }
    }
}
