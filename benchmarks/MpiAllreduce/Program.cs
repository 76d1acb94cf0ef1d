using System.Globalization;
using Crema.Mpi;

// MPI_Allreduce (sum, float, in place) as MpiSolver calls it, over buffer sizes from LeNet's gradient (1.7 MB) to
// ResNet-50's (102 MB). Every sample starts after a barrier, so skew between ranks is not counted as transfer time.
// Run: mpiexec -n 2 dotnet benchmarks/MpiAllreduce/bin/Release/net10.0/MpiAllreduce.dll [repeats]
var world = MpiWorld.Get();
int repeats = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 15;
long[] sizes = [1_724_320, 4_000_000, 16_000_000, 64_000_000, 102_000_000];
if (world.Rank == 0)
{
    Console.WriteLine($"| ranks | MB | median ms | algorithm GB/s | bus GB/s = 2(K-1)/K x algorithm |");
    Console.WriteLine("|---:|---:|---:|---:|---:|");
}
foreach (long bytes in sizes)
{
    var buffer = new float[bytes / sizeof(float)];
    buffer.AsSpan().Fill(world.Rank + 1);
    var samples = new double[repeats];
    world.AllreduceSum(buffer); // warm-up: connections and registration
    for (int i = 0; i < repeats; i++)
    {
        world.Barrier();
        double start = MpiWorld.Time();
        world.AllreduceSum(buffer);
        samples[i] = MpiWorld.Time() - start;
    }
    // Slowest rank's time per repeat is the collective's time.
    double[] all = world.Gather(samples);
    if (world.Rank == 0)
    {
        var worst = Enumerable.Range(0, repeats).Select(i => Enumerable.Range(0, world.Size).Max(r => all[r * repeats + i])).Order().ToArray();
        double median = worst[repeats / 2];
        double algorithm = bytes / median / 1e9;
        double bus = world.Size > 1 ? 2.0 * (world.Size - 1) / world.Size * algorithm : 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {world.Size} | {bytes / 1e6:0.0} | {median * 1e3:0.00} | {algorithm:0.00} | {bus:0.00} |"));
    }
}
