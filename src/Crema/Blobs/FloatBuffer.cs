using System.Runtime.InteropServices;

namespace Crema;

/// <summary>A 64-byte aligned block of native float32 memory (AVX-512 friendly), freed by finalizer or Dispose.</summary>
public sealed unsafe class FloatBuffer : IDisposable
{
    private static long s_liveBytes;
    private float* _ptr;

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

    public float* Pointer => _ptr;

    public Span<float> Span => new(_ptr, checked((int)Length));

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
