using System.Numerics;
using System.Runtime.CompilerServices;

namespace Crema.Kernels;

/// <summary>
/// Parameter updates in one pass over memory, split over the <see cref="WorkerPool"/> for big parameters. CaffeNet's
/// 61 M parameters make the update memory-bound: Caffe's sequence (regularise, momentum, copy, update, then clear) reads
/// and writes every array 14 times; the fused step touches each once, with the same arithmetic in the same order.
/// </summary>
internal static unsafe class SolverKernels
{
    /// <summary>Below this many elements one thread finishes before a second is woken.</summary>
    public const int ParallelMinLength = 1 << 16;

    private struct SgdArgs
    {
        public float* Data, Diff, History;
        public int N, Parts;
        public float Decay, Momentum, Rate;
    }

    private struct ClearArgs
    {
        public float* Y;
        public int N, Parts;
    }

    /// <summary>
    /// SGD with momentum and L2 weight decay, elementwise: g = diff + decay·w (skipped when decay = 0, as Caffe skips the
    /// axpy), v = momentum·v + rate·g, diff = v, w = w − v. Each product and sum is rounded separately, as the separate
    /// passes do (no fused multiply-add), so the result is bit-identical to them.
    /// </summary>
    public static void SgdMomentum(Span<float> data, Span<float> diff, Span<float> history, float decay, float momentum, float rate)
    {
        int n = data.Length;
        if (diff.Length != n || history.Length != n)
        {
            throw new ArgumentException($"data, diff and history must have the same length ({n}, {diff.Length}, {history.Length})");
        }
        fixed (float* w = data)
        fixed (float* g = diff)
        fixed (float* h = history)
        {
            var args = new SgdArgs
            {
                Data = w, Diff = g, History = h, N = n, Decay = decay, Momentum = momentum, Rate = rate,
                Parts = n < ParallelMinLength ? 1 : WorkerPool.Threads,
            };
            if (args.Parts == 1)
            {
                SgdPart(&args, 0);
            }
            else
            {
                WorkerPool.Run(args.Parts, &SgdPart, &args);
            }
        }
    }

    /// <summary>Zeroes <paramref name="y"/>, on all threads when it is big (a parameter's diff before each iteration).</summary>
    public static void Clear(Span<float> y)
    {
        if (y.Length < ParallelMinLength)
        {
            y.Clear();
            return;
        }
        fixed (float* p = y)
        {
            var args = new ClearArgs { Y = p, N = y.Length, Parts = WorkerPool.Threads };
            WorkerPool.Run(args.Parts, &ClearPart, &args);
        }
    }

    private static void ClearPart(void* ctx, int part)
    {
        var a = (ClearArgs*)ctx;
        var (i0, i1) = WorkerPool.SliceAligned(a->N, part, a->Parts);
        new Span<float>(a->Y + i0, i1 - i0).Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SgdPart(void* ctx, int part)
    {
        var a = (SgdArgs*)ctx;
        var (i0, i1) = WorkerPool.SliceAligned(a->N, part, a->Parts);
        float* w = a->Data, g = a->Diff, h = a->History;
        float decay = a->Decay, momentum = a->Momentum, rate = a->Rate;
        int i = i0;
        if (Vector.IsHardwareAccelerated)
        {
            var vDecay = new Vector<float>(decay);
            var vMomentum = new Vector<float>(momentum);
            var vRate = new Vector<float>(rate);
            int width = Vector<float>.Count;
            for (; i <= i1 - width; i += width)
            {
                var wi = Vector.Load(w + i);
                var gi = Vector.Load(g + i);
                if (decay != 0)
                {
                    gi = (wi * vDecay) + gi;
                }
                var hi = (gi * vRate) + (Vector.Load(h + i) * vMomentum);
                hi.Store(h + i);
                hi.Store(g + i);
                (wi - hi).Store(w + i);
            }
        }
        for (; i < i1; i++)
        {
            float gi = g[i];
            if (decay != 0)
            {
                gi = (w[i] * decay) + gi;
            }
            float hi = (gi * rate) + (h[i] * momentum);
            h[i] = hi;
            g[i] = hi;
            w[i] -= hi;
        }
    }
}
