namespace Crema.Kernels;

/// <summary>A piece of work cut into a fixed number of parts; part p of P is the same data on every run.</summary>
internal interface IPartitionedWork
{
    void RunPart(int part, int parts);
}

/// <summary>
/// The persistent threads every parallel kernel shares (GEMM, convolution over images, pooling, LRN…): part 0 runs on
/// the caller, part w on worker w − 1, no allocation per call. Work started from inside a part (a GEMM inside a
/// per-image convolution) or while another caller holds the pool runs its parts serially on the calling thread, so
/// the machine is never oversubscribed and nested kernels need no special case. After its own part the caller takes
/// every part no worker has started yet: on a loaded machine a worker that is slow to wake costs nothing (parts, not
/// threads, own the data, so results do not depend on who ran what).
/// </summary>
internal static unsafe class WorkerPool
{
    private static int s_busy;
    // Incremented by every dispatch; workers wait for it to change.
    private static int s_generation;
    // How long an idle worker stays awake before it sleeps: back-to-back kernels (a net's layers, a GEMM per image) find it
    // awake and cost the dispatcher no system call. A sleeping worker wakes too late for short kernels (tens of µs on a
    // VM), and the caller then runs its part too, so a batch-1 forward whose serial stretches (an im2col, a concat) last
    // longer than the spin ran half-threaded: SqueezeNet b1 on 2 cores, forwards 50 ms apart, median 29–37 ms with a
    // 0.2 ms spin, 18 ms with 5 ms. The first stretch spins on pause instructions; after it the worker yields its core
    // between checks, so a process that wants the core (a second MPI rank, a test run) gets it at once.
    private static readonly long s_spinTicks = System.Diagnostics.Stopwatch.Frequency / 10000;
    private static readonly long s_awakeTicks = System.Diagnostics.Stopwatch.Frequency / 200;
    private static Worker[] s_workers = [];
    private static delegate*<void*, int, void> s_body;
    private static void* s_ctx;
    private static IPartitionedWork? s_work;
    private static int s_parts;
    private static int s_done;
    // claimed[p] = 1 once some thread took part p: workers take their own part, the caller takes whatever is left.
    private static int[] s_claimed = [];
    private static Exception? s_error;

    /// <summary>Threads a kernel may use: <see cref="Gemm.ThreadCount"/> capped by the processor count.</summary>
    public static int Threads => Math.Min(Gemm.ThreadCount, Environment.ProcessorCount);

    /// <summary>Parts for <paramref name="items"/> independent items with at least <paramref name="minItemsPerPart"/> each.</summary>
    public static int PartsFor(long items, long minItemsPerPart = 1) =>
        (int)Math.Max(1, Math.Min(Threads, items / Math.Max(1, minItemsPerPart)));

    /// <summary>[start, end) of part <paramref name="part"/> of <paramref name="parts"/> equal slices of <paramref name="count"/> items.</summary>
    public static (int Start, int End) Slice(int count, int part, int parts) =>
        ((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));

    /// <summary>[start, end) of part <paramref name="part"/> of <paramref name="count"/> floats cut on 64-float boundaries, so parts do not share cache lines.</summary>
    public static (int Start, int End) SliceAligned(int count, int part, int parts)
    {
        int blocks = (count + 63) / 64;
        var (b0, b1) = Slice(blocks, part, parts);
        return (Math.Min(b0 * 64, count), Math.Min(b1 * 64, count));
    }

    /// <summary>Runs work.RunPart(p, parts) for p in [0, parts), in parallel when the pool is free.</summary>
    public static void Run(int parts, IPartitionedWork work)
    {
        if (parts <= 1 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int i = 0; i < parts; i++)
            {
                work.RunPart(i, parts);
            }
            return;
        }
        s_work = work;
        Dispatch(parts, &RunWork, null);
        s_work = null;
    }

    /// <summary>Function-pointer form for kernels whose arguments live on the caller's stack (ctx points there).</summary>
    internal static void Run(int parts, delegate*<void*, int, void> body, void* ctx)
    {
        if (parts <= 1 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int i = 0; i < parts; i++)
            {
                body(ctx, i);
            }
            return;
        }
        Dispatch(parts, body, ctx);
    }

    private static void RunWork(void* ctx, int part) => s_work!.RunPart(part, s_parts);

    // Called holding s_busy; releases it.
    private static void Dispatch(int parts, delegate*<void*, int, void> body, void* ctx)
    {
        try
        {
            EnsureWorkers(parts - 1);
            s_body = body;
            s_ctx = ctx;
            s_parts = parts;
            s_done = 0;
            for (int p = 0; p < parts; p++)
            {
                Volatile.Write(ref s_claimed[p], 0);
            }
            s_claimed[0] = 1;
            // A new generation wakes the workers: spinning ones see it at once; only a sleeping one costs a system call.
            Interlocked.Increment(ref s_generation);
            for (int w = 0; w < parts - 1; w++)
            {
                s_workers[w].Wake();
            }
            try
            {
                body(ctx, 0);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref s_error, e, null);
            }
            Interlocked.Increment(ref s_done);
            for (int p = 1; p < parts; p++)
            {
                TryRun(p);
            }
            // Workers hold pointers into the caller's frame: never return before they are done. Every part is counted
            // even when it throws (TryRun catches), so this ends.
            var spin = default(SpinWait);
            while (Volatile.Read(ref s_done) != parts)
            {
                spin.SpinOnce(-1);
            }
            if (Interlocked.Exchange(ref s_error, null) is { } error)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            }
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    // Runs part p unless another thread has claimed it. A worker woken late may find its part taken (or, at worst, a
    // later dispatch's part, which it then runs with that dispatch's body: s_body is written before the claims reset).
    private static void TryRun(int part)
    {
        if (part >= s_claimed.Length || Interlocked.Exchange(ref s_claimed[part], 1) != 0)
        {
            return;
        }
        try
        {
            s_body(s_ctx, part);
        }
        catch (Exception e)
        {
            // Rethrown on the caller; a worker thread must not die.
            Interlocked.CompareExchange(ref s_error, e, null);
        }
        finally
        {
            Interlocked.Increment(ref s_done);
        }
    }

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count)
        {
            return;
        }
        s_claimed = new int[count + 1];
        Array.Fill(s_claimed, 1);
        var workers = new Worker[count];
        Array.Copy(s_workers, workers, s_workers.Length);
        for (int i = s_workers.Length; i < count; i++)
        {
            workers[i] = new Worker(i + 1);
        }
        s_workers = workers;
    }

    // Workers (and their wake events) live as long as the process: the pool only grows.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "process-lifetime worker thread")]
    private sealed class Worker
    {
        private readonly ManualResetEventSlim _wake = new(false, 0);
        private readonly int _part;
        private int _sleeping;

        public Worker(int part)
        {
            _part = part;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Crema worker {part}" };
            thread.Start();
        }

        // Called after the generation changed: either the worker sees the new generation before it sleeps, or it has
        // announced sleeping (a full fence in both threads) and is woken here.
        public void Wake()
        {
            if (Volatile.Read(ref _sleeping) != 0)
            {
                _wake.Set();
            }
        }

        private void Loop()
        {
            int seen = Volatile.Read(ref s_generation);
            while (true)
            {
                int generation;
                long idleSince = System.Diagnostics.Stopwatch.GetTimestamp();
                while ((generation = Volatile.Read(ref s_generation)) == seen)
                {
                    long idle = System.Diagnostics.Stopwatch.GetTimestamp() - idleSince;
                    if (idle < s_spinTicks)
                    {
                        Thread.SpinWait(4);
                        continue;
                    }
                    if (idle < s_awakeTicks)
                    {
                        Thread.Yield();
                        continue;
                    }
                    _wake.Reset();
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (Volatile.Read(ref s_generation) == seen)
                    {
                        _wake.Wait();
                    }
                    Volatile.Write(ref _sleeping, 0);
                    idleSince = System.Diagnostics.Stopwatch.GetTimestamp();
                }
                seen = generation;
                TryRun(_part);
            }
        }
    }
}
