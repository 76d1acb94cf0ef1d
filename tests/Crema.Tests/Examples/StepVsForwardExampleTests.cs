using Crema.Examples.StepVsForward;

namespace Crema.Tests.Examples;

/// <summary>examples/step_vs_forward on a few hundred digits: every fact its README states.</summary>
public sealed class StepVsForwardExampleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crema-step-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ShortRun_ShowsWhatStepDoesThatForwardDoesNot()
    {
        var text = new StringWriter();
        var r = StepVsForwardExample.Run(new StepVsForwardExample.Options { RepoRoot = RepoPaths.Root, WorkDir = _dir, TrainDigits = 300, TestDigits = 100 }, text);
        string printed = text.ToString();

        // Forward: outputs and the next batch, nothing else.
        Assert.True(r.WeightsIdenticalAfterForward);
        Assert.Equal(0, r.IterationAfterForward);
        Assert.All(r.ForwardLosses, l => Assert.InRange(l, 1.5f, 3.5f));
        Assert.Equal([0, 64, 128], r.BatchStarts);
        Assert.Contains("training digits 64–127", printed, StringComparison.Ordinal);

        // Step: forward + backward + update.
        Assert.Equal(1, r.IterationAfterStep);
        Assert.Equal(r.Conv1WeightCount, r.Conv1WeightsChangedByStep);
        Assert.Equal(500, r.Conv1WeightCount);
        Assert.Contains(r.StepLogLines, l => l.StartsWith("Iteration 0 (", StringComparison.Ordinal) && l.EndsWith($"loss = {Log.Num(r.StepLoss)}", StringComparison.Ordinal));
        Assert.Contains(r.StepLogLines, l => l == "Iteration 0, lr = 0.01");

        // The test net reads the train net's weight memory.
        Assert.True(r.TestNetSharesMemory);
        Assert.Equal(42f, r.ValueReadThroughTestNet);
        Assert.Equal(8, r.ParamBlobs);
        Assert.Equal(r.ParamBlobs, r.SharedParamBlobs);

        // The layer object taken from solver.Net is the one Step runs and updates.
        Assert.Equal(MathF.Log(10), r.LossWithZeroedIp2, 5);
        Assert.True(r.Ip2ObjectUpdatedByStep);
        Assert.Contains("next Step(1): loss = 2.30259", printed, StringComparison.Ordinal);
    }
}
