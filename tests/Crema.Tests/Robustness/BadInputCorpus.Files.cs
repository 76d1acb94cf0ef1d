using System.Buffers.Binary;
using System.Globalization;
using Crema.Data;
using Crema.Nets;
using Crema.Proto;
using Crema.Tests.Data;
using Google.Protobuf;
using PureHDF;

namespace Crema.Tests.Robustness;

/// <summary>The bad-input corpus: caffemodel and solverstate cases.</summary>
internal static partial class BadInputCorpus
{
    // ------------------------------------------------------------------ caffemodel

    private static string[] Test(TempDir dir, string weightsFile, string net = Deploy)
    {
        File.WriteAllText(dir.Combine("deploy.prototxt"), net);
        return ["test", "-model", dir.Combine("deploy.prototxt"), "-weights", weightsFile, "-iterations", "1"];
    }

    private static BadCase Weights(string name, Action<NetParameter> damage, params string[] expect) => new(name, d =>
    {
        var w = BadFiles.Weights(Deploy);
        damage(w);
        WeightFiles.Write(w, d.Combine("w.caffemodel"));
        return Test(d, d.Combine("w.caffemodel"));
    }, ["w.caffemodel", .. expect]);

    private static BadCase WeightBytes(string name, Func<byte[]> bytes, string file = "w.caffemodel") => new(name, d =>
    {
        File.WriteAllBytes(d.Combine(file), bytes());
        return Test(d, d.Combine(file));
    }, [file]);

    private static readonly Lazy<byte[]> GoodWeights = new(() => BadFiles.Weights(Deploy).ToByteArray());

    /// <summary>Cut points of <paramref name="bytes"/> at which protobuf parsing fails (a cut at a message boundary is a valid, shorter file).</summary>
    private static IEnumerable<int> FailingCuts<T>(byte[] bytes, MessageParser<T> parser, int count) where T : IMessage<T>
    {
        int found = 0;
        int last = -1;
        for (int i = 1; i <= 97 && found < count; i++)
        {
            int cut = (int)((long)bytes.Length * i / 98);
            if (cut == last)
            {
                continue;
            }
            last = cut;
            bool fails;
            try
            {
                parser.ParseFrom(bytes.AsSpan(0, cut).ToArray());
                fails = false;
            }
            catch (InvalidProtocolBufferException)
            {
                fails = true;
            }
            if (fails)
            {
                found++;
                yield return cut;
            }
        }
    }

    private static IEnumerable<BadCase> CaffemodelCases()
    {
        foreach (int seed in Enumerable.Range(1, 6))
        {
            yield return WeightBytes($"caffemodel_random_{seed}", () => BadFiles.Random(64 << seed, seed));
        }
        foreach (int cut in FailingCuts(GoodWeights.Value, NetParameter.Parser, 20))
        {
            yield return WeightBytes($"caffemodel_truncated_{cut}", () => GoodWeights.Value[..cut]);
        }
        yield return WeightBytes("caffemodel_text_file", () => System.Text.Encoding.UTF8.GetBytes(Deploy));
        yield return WeightBytes("caffemodel_h5_random", () => BadFiles.Random(3000, 9), "w.caffemodel.h5");
        yield return WeightBytes("caffemodel_h5_hdf5_signature_only", () => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0], "w.caffemodel.h5");
        yield return new("caffemodel_h5_no_data_group", d =>
        {
            var file = new H5File { ["other"] = new H5Group() };
            file.Write(d.Combine("w.caffemodel.h5"));
            return Test(d, d.Combine("w.caffemodel.h5"));
        }, ["w.caffemodel.h5"]);
        yield return new("caffemodel_h5_soft_link_self", d =>
        {
            new H5File { ["data"] = new H5Group { ["conv"] = new H5SoftLink("conv") } }.Write(d.Combine("w.caffemodel.h5"));
            return Test(d, d.Combine("w.caffemodel.h5"));
        }, ["w.caffemodel.h5", "'/data/conv' is part of a cycle"]);
        yield return new("caffemodel_h5_soft_link_cycle_through_group", d =>
        {
            var file = new H5File { ["data"] = new H5SoftLink("/d2") };
            file["d2"] = new H5Group { ["conv"] = new H5SoftLink("/data/conv") };
            file.Write(d.Combine("w.caffemodel.h5"));
            return Test(d, d.Combine("w.caffemodel.h5"));
        }, ["w.caffemodel.h5", "cycle"]);
        yield return new("caffemodel_h5_soft_link_chain_10000", d =>
        {
            var file = new H5File { ["data"] = new H5SoftLink("l0") };
            for (int i = 0; i < 10_000; i++)
            {
                file[$"l{i}"] = new H5SoftLink($"l{i + 1}");
            }
            file.Write(d.Combine("w.caffemodel.h5"));
            return Test(d, d.Combine("w.caffemodel.h5"));
        }, ["w.caffemodel.h5", "chain of more than 16"]);
        yield return new("caffemodel_h5_truncated", d =>
        {
            using (var net = new Crema.Nets.Net(Crema.Proto.TextFormat.PrototxtParser.Parse<NetParameter>(Deploy, "d"), Phase.Test))
            {
                net.SaveHdf5(d.Combine("full.h5"));
            }
            var bytes = File.ReadAllBytes(d.Combine("full.h5"));
            File.WriteAllBytes(d.Combine("w.caffemodel.h5"), bytes[..(bytes.Length / 2)]);
            File.Delete(d.Combine("full.h5"));
            return Test(d, d.Combine("w.caffemodel.h5"));
        }, ["w.caffemodel.h5"]);
        yield return new("caffemodel_is_directory", d =>
        {
            Directory.CreateDirectory(d.Combine("w.caffemodel"));
            return Test(d, d.Combine("w.caffemodel"));
        }, ["w.caffemodel"]);
        yield return new("caffemodel_missing", d => Test(d, d.Combine("nope.caffemodel")), ["nope.caffemodel"]);
        yield return new("caffemodel_one_of_list_missing", d =>
        {
            WeightFiles.Write(BadFiles.Weights(BadFiles.TrainNet, Phase.Train), d.Combine("w.caffemodel"));
            File.WriteAllText(d.Combine("s.prototxt"), $"net: \"{d.Combine("train.prototxt")}\" base_lr: 0.1 lr_policy: \"fixed\" max_iter: 1 snapshot_after_train: false");
            File.WriteAllText(d.Combine("train.prototxt"), BadFiles.TrainNet);
            return ["train", "-solver", d.Combine("s.prototxt"), "-weights", d.Combine("w.caffemodel") + "," + d.Combine("nope2.caffemodel")];
        }, ["nope2.caffemodel"]);

        yield return Weights("weights_no_data", w => w.Layer.Single(l => l.Name == "conv").Blobs[0].Data.Clear(), "conv");
        yield return Weights("weights_short_data", w => Shorten(w.Layer.Single(l => l.Name == "ip").Blobs[0]), "ip");
        yield return Weights("weights_long_data", w => w.Layer.Single(l => l.Name == "ip").Blobs[1].Data.Add(1f), "ip");
        yield return Weights("weights_bias_no_data", w => w.Layer.Single(l => l.Name == "ip").Blobs[1].Data.Clear(), "ip");
        yield return Weights("weights_double_data_count", w =>
        {
            var b = w.Layer.Single(l => l.Name == "conv").Blobs[1];
            b.Data.Clear();
            b.DoubleData.Add(1.0);
        }, "conv");
        yield return Weights("weights_dim_huge", w => w.Layer.Single(l => l.Name == "ip").Blobs[0].Shape.Dim[1] = 1L << 40, "ip");
        yield return Weights("weights_dim_negative", w => w.Layer.Single(l => l.Name == "ip").Blobs[0].Shape.Dim[1] = -3, "ip");
        yield return Weights("weights_dim_2_31", w => w.Layer.Single(l => l.Name == "conv").Blobs[0].Shape.Dim[0] = 1L << 31, "conv");
        yield return Weights("weights_shape_mismatch", w => w.Layer.Single(l => l.Name == "conv").Blobs[0].Shape.Dim[0] = 5, "conv");
        yield return Weights("weights_extra_axis", w => w.Layer.Single(l => l.Name == "conv").Blobs[1].Shape.Dim.Add(1), "conv");
        yield return Weights("weights_zero_axes", w => w.Layer.Single(l => l.Name == "conv").Blobs[1].Shape.Dim.Clear(), "conv");
        yield return Weights("weights_too_many_blobs", w => w.Layer.Single(l => l.Name == "ip").Blobs.Add(w.Layer.Single(l => l.Name == "ip").Blobs[1].Clone()), "ip");
        yield return Weights("weights_too_few_blobs", w => w.Layer.Single(l => l.Name == "ip").Blobs.RemoveAt(1), "ip");
        yield return Weights("weights_on_pool", w => w.Layer.Single(l => l.Name == "pool").Blobs.Add(new BlobProto { Shape = new BlobShape { Dim = { 1 } }, Data = { 1f } }), "pool");
        yield return Weights("weights_legacy_dims_wrong", w =>
        {
            var b = w.Layer.Single(l => l.Name == "ip").Blobs[1];
            b.Shape = null;
            (b.Num, b.Channels, b.Height, b.Width) = (1, 1, 1, 7);
        }, "ip");
    }

    private static void Shorten(BlobProto b)
    {
        var kept = b.Data.Take(b.Data.Count - 3).ToArray();
        b.Data.Clear();
        b.Data.AddRange(kept);
    }

    // ------------------------------------------------------------------ solverstate

    private static BadCase State(string name, Action<TempDir, SolverState> damage, params string[] expect) => new(name, d =>
    {
        var args = Train(d, Solver);
        File.WriteAllText(d.Combine("bad_solver.prototxt"), File.ReadAllText(d.Combine("bad_solver.prototxt")).Replace("max_iter: 1", "max_iter: 3", StringComparison.Ordinal));
        WeightFiles.Write(BadFiles.Weights(BadFiles.TrainNet, Phase.Train), d.Combine("w.caffemodel"));
        var state = new SolverState { Iter = 1, LearnedNet = d.Combine("w.caffemodel") };
        state.History.Add(new BlobProto { Shape = new BlobShape { Dim = { 2, 3 } }, Data = { new float[6] } });
        state.History.Add(new BlobProto { Shape = new BlobShape { Dim = { 2 } }, Data = { new float[2] } });
        damage(d, state);
        ProtoFiles.WriteBinaryAtomic(state, d.Combine("s.solverstate"));
        return [.. args, "-snapshot", d.Combine("s.solverstate")];
    }, ["s.solverstate", .. expect]);

    private static BadCase StateBytes(string name, Func<byte[]> bytes, string file = "s.solverstate") => new(name, d =>
    {
        var args = Train(d, Solver);
        File.WriteAllBytes(d.Combine(file), bytes());
        return [.. args, "-snapshot", d.Combine(file)];
    }, [file]);

    private static IEnumerable<BadCase> SolverStateCases()
    {
        yield return State("state_history_count", (_, s) => s.History.RemoveAt(1));
        yield return State("state_history_extra", (_, s) => s.History.Add(s.History[1].Clone()));
        yield return State("state_history_shape", (_, s) => s.History[0].Shape.Dim[1] = 4);
        yield return State("state_history_no_data", (_, s) => s.History[1].Data.Clear());
        yield return State("state_history_dim_huge", (_, s) => s.History[0].Shape.Dim[0] = 1L << 35);
        yield return State("state_learned_net_empty", (_, s) => s.LearnedNet = "", "learned_net");
        yield return new("state_learned_net_missing", d =>
        {
            var args = Train(d, Solver);
            var state = new SolverState { Iter = 1, LearnedNet = d.Combine("gone.caffemodel") };
            ProtoFiles.WriteBinaryAtomic(state, d.Combine("s.solverstate"));
            return [.. args, "-snapshot", d.Combine("s.solverstate")];
        }, ["s.solverstate"]);
        yield return State("state_learned_net_garbage", (d, s) =>
        {
            File.WriteAllBytes(d.Combine("g.caffemodel"), BadFiles.Random(500, 4));
            s.LearnedNet = d.Combine("g.caffemodel");
        }, "g.caffemodel") with { Expect = ["g.caffemodel"] };
        foreach (int seed in Enumerable.Range(1, 4))
        {
            yield return StateBytes($"state_random_{seed}", () => BadFiles.Random(100 * seed, 100 + seed));
        }
        var good = new SolverState { Iter = 7, LearnedNet = "some/where.caffemodel" };
        good.History.Add(new BlobProto { Shape = new BlobShape { Dim = { 2, 3 } }, Data = { new float[6] } });
        byte[] goodBytes = good.ToByteArray();
        foreach (int cut in FailingCuts(goodBytes, SolverState.Parser, 6))
        {
            yield return StateBytes($"state_truncated_{cut}", () => goodBytes[..cut]);
        }
        yield return StateBytes("state_h5_random", () => BadFiles.Random(2048, 77), "s.solverstate.h5");
        yield return new("state_h5_missing_iter", d =>
        {
            var args = Train(d, Solver);
            new H5File { ["history"] = new H5Group() }.Write(d.Combine("s.solverstate.h5"));
            return [.. args, "-snapshot", d.Combine("s.solverstate.h5")];
        }, ["s.solverstate.h5"]);
        yield return new("state_h5_soft_link_self", d =>
        {
            var args = Train(d, Solver);
            new H5File { ["iter"] = new H5SoftLink("iter") }.Write(d.Combine("s.solverstate.h5"));
            return [.. args, "-snapshot", d.Combine("s.solverstate.h5")];
        }, ["s.solverstate.h5", "'/iter' is part of a cycle"]);
        yield return new("state_missing", d => [.. Train(d, Solver), "-snapshot", d.Combine("none.solverstate")], ["none.solverstate"]);
        yield return new("state_and_weights", d => [.. Train(d, Solver), "-snapshot", d.Combine("a.solverstate"), "-weights", d.Combine("b.caffemodel")], ["snapshot", "weights"]);
    }
}
