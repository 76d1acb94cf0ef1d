using System.Buffers.Binary;
using System.Globalization;
using Crema.Data;
using Crema.Nets;
using Crema.Proto;
using Crema.Tests.Data;
using Google.Protobuf;
using PureHDF;

namespace Crema.Tests.Robustness;

/// <summary>The bad-input corpus: custom layers, CLI flags and huge sizes.</summary>
internal static partial class BadInputCorpus
{
    // ------------------------------------------------------------------ custom (Python-type) layers

    private static BadCase Custom(string name, string body, params string[] expect) => Custom(name, body, "time", expect);

    private static BadCase Custom(string name, string body, string verb, params string[] expect) => new(name, d =>
    {
        File.WriteAllText(d.Combine("user_layer.cs"), "using Crema;\nusing Crema.Layers;\nusing Crema.Proto;\n\npublic sealed class UserLayer(LayerParameter param) : Layer(param)\n{\n" + body + "\n}\n");
        const string layer = "layer { name: \"py\" type: \"Python\" bottom: \"data\" top: \"out\" python_param { module: \"user_layer.cs\" layer: \"UserLayer\" } }";
        if (verb == "train")
        {
            string net = "layer { name: \"data\" type: \"Input\" top: \"data\" top: \"label\" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }\n"
                + layer + "\nlayer { name: \"loss\" type: \"EuclideanLoss\" bottom: \"out\" bottom: \"data\" top: \"loss\" }\nforce_backward: true";
            File.WriteAllText(d.Combine("net.prototxt"), net);
            File.WriteAllText(d.Combine("solver.prototxt"), $"net: \"{d.Combine("net.prototxt")}\" base_lr: 0.1 lr_policy: \"fixed\" max_iter: 1 snapshot_after_train: false");
            return ["train", "-solver", d.Combine("solver.prototxt")];
        }
        return Time(d, "layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 2 dim: 3 } } }\n" + layer);
    }, ["py", .. expect]);

    private const string Shape = "    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => top[0].ReshapeLike(bottom[0]);\n";
    private const string Fwd = "    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => bottom[0].Data.CopyTo(top[0].Data);\n";

    private static IEnumerable<BadCase> CustomLayerCases()
    {
        yield return Custom("custom_compile_error", Shape + "    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { int x = \"s\"; }", "user_layer.cs");
        yield return Custom("custom_syntax_error", Shape + "    protected override void ForwardCore(", "user_layer.cs");
        yield return Custom("custom_forward_index", Shape + "    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)\n    {\n        top[0].Data[0] = bottom[0].Data[99];\n    }", "user_layer.cs:", "Forward", "IndexOutOfRangeException");
        yield return Custom("custom_forward_null", Shape + "    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)\n    {\n        string? s = bottom.Count > 5 ? \"x\" : null;\n        top[0].Data[0] = s!.Length;\n    }", "user_layer.cs:", "NullReferenceException");
        yield return Custom("custom_forward_divide", Shape + "    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)\n    {\n        int zero = bottom.Count - 1;\n        top[0].Data[0] = 1 / zero;\n    }", "user_layer.cs:", "DivideByZeroException");
        yield return Custom("custom_forward_overflow", Shape + "    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)\n    {\n        int big = int.MaxValue - 1 + bottom.Count;\n        top[0].Data[0] = checked(big + 1);\n    }", "user_layer.cs:", "OverflowException");
        yield return Custom("custom_forward_invalid_cast", Shape + "    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)\n    {\n        object o = \"text\";\n        top[0].Data[0] = (int)o;\n    }", "user_layer.cs:", "InvalidCastException");
        yield return Custom("custom_forward_key", Shape + "    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)\n    {\n        var d = new Dictionary<string, float>();\n        top[0].Data[0] = d[\"missing\"];\n    }", "user_layer.cs:", "KeyNotFoundException");
        yield return Custom("custom_forward_argument", Shape + "    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => throw new ArgumentException(\"bad arg\");", "user_layer.cs:", "bad arg");
        yield return Custom("custom_setup_throws", Shape + Fwd + "    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => throw new NotImplementedException(\"later\");", "user_layer.cs:", "SetUp", "later");
        yield return Custom("custom_reshape_throws", "    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => top[0].Reshape(-1);\n" + Fwd, "user_layer.cs");
        yield return Custom("custom_backward_throws", Shape + Fwd + "    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)\n    {\n        throw new FormatException(\"no gradient\");\n    }", "train", "user_layer.cs:", "Backward", "no gradient");
        yield return Custom("custom_user_crema_error", Shape + "    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => throw Error(\"my own message\");", "my own message");
        yield return new("custom_module_missing", d => Time(d, "layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 2 } } }\nlayer { name: \"py\" type: \"Python\" bottom: \"data\" top: \"o\" python_param { module: \"gone.cs\" layer: \"X\" } }"), ["py", "gone.cs"]);
        yield return new("custom_class_missing", d =>
        {
            File.WriteAllText(d.Combine("user_layer.cs"), "public sealed class Other { }");
            return Time(d, "layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 2 } } }\nlayer { name: \"py\" type: \"Python\" bottom: \"data\" top: \"o\" python_param { module: \"user_layer.cs\" layer: \"UserLayer\" } }");
        }, ["py", "UserLayer"]);
        yield return new("custom_not_a_layer", d =>
        {
            File.WriteAllText(d.Combine("user_layer.cs"), "public sealed class UserLayer { }");
            return Time(d, "layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 2 } } }\nlayer { name: \"py\" type: \"Python\" bottom: \"data\" top: \"o\" python_param { module: \"user_layer.cs\" layer: \"UserLayer\" } }");
        }, ["py", "UserLayer"]);
    }

    // ------------------------------------------------------------------ flags and verbs

    private static BadCase Flags(string name, Func<TempDir, string[]> args, params string[] expect) => new(name, args, expect);

    private static string Model(TempDir d)
    {
        File.WriteAllText(d.Combine("deploy.prototxt"), Deploy);
        return d.Combine("deploy.prototxt");
    }

    private static IEnumerable<BadCase> FlagCases()
    {
        yield return Flags("flag_unknown_verb", _ => ["trian"], "trian");
        yield return Flags("flag_train_unknown", d => ["train", "-solverr", d.Combine("s")], "--solverr");
        yield return Flags("flag_test_unknown", d => ["test", "-modle", Model(d)], "--modle");
        yield return Flags("flag_time_unknown", d => ["time", "-model", Model(d), "-iter", "3"], "--iter");
        yield return Flags("flag_train_no_solver", _ => ["train"], "-solver");
        yield return Flags("flag_test_no_model", d => ["test", "-weights", d.Combine("w")], "-model");
        yield return Flags("flag_time_no_model", _ => ["time"], "-model");
        yield return Flags("flag_iterations_abc", d => ["time", "-model", Model(d), "-iterations", "abc"], "abc");
        yield return Flags("flag_iterations_overflow", d => ["time", "-model", Model(d), "-iterations", "99999999999"], "99999999999");
        yield return Flags("flag_iterations_float", d => ["time", "-model", Model(d), "-iterations", "1.5"], "1.5");
        yield return Flags("flag_iterations_zero", d => ["time", "-model", Model(d), "-iterations", "0"], "-iterations");
        yield return Flags("flag_iterations_negative", d => ["time", "-model", Model(d), "-iterations", "-4"], "-4");
        yield return Flags("flag_test_iterations_negative", d => ["test", "-model", Model(d), "-weights", WeightsFile(d), "-iterations", "-1"], "-1");
        yield return Flags("flag_iterations_missing_value", d => ["time", "-model", Model(d), "-iterations"], "iterations");
        yield return Flags("flag_phase_bad", d => ["time", "-model", Model(d), "-phase", "VALIDATE"], "VALIDATE");
        yield return Flags("flag_level_abc", d => ["time", "-model", Model(d), "-level", "x"], "x");
        yield return Flags("flag_model_missing", d => ["time", "-model", d.Combine("nope.prototxt")], "nope.prototxt");
        yield return Flags("flag_model_empty", _ => ["time", "-model", ""], "model");
        yield return Flags("flag_model_directory", d => ["time", "-model", d.Path], "crema-test-");
        yield return Flags("flag_model_binary", d =>
        {
            WeightFiles.Write(BadFiles.Weights(Deploy), d.Combine("m.caffemodel"));
            return ["time", "-model", d.Combine("m.caffemodel")];
        }, "m.caffemodel");
        yield return Flags("flag_log_onto_model", d => ["time", "-model", Model(d), "-iterations", "1", "--log", d.Combine("deploy.prototxt")], "deploy.prototxt");
        yield return Flags("flag_log_onto_other_file", d =>
        {
            File.WriteAllText(d.Combine("notes.txt"), "my notes");
            return ["time", "-model", Model(d), "-iterations", "1", "-log_dir", d.Combine("notes.txt")];
        }, "notes.txt");
        yield return Flags("flag_log_onto_foreign_info_file", d =>
        {
            // a user's own file that merely looks like a log's name is not replaced
            Directory.CreateDirectory(d.Combine("logs"));
            File.WriteAllText(d.Combine("logs/crema.INFO"), "my own file");
            return ["time", "-model", Model(d), "-iterations", "1", "--log", d.Combine("logs/crema.INFO")];
        }, "crema.INFO");
        yield return Flags("flag_log_missing_folder", d => ["time", "-model", Model(d), "-iterations", "1", "--log", d.Combine("no/dir/x.log")], "no/dir");
        yield return Flags("flag_sigint_effect_bad", d => ["train", "-solver", d.Combine("s.prototxt"), "-sigint_effect", "explode"], "explode");
        yield return Flags("flag_weights_and_snapshot", d => ["train", "-solver", d.Combine("s.prototxt"), "-snapshot", "a", "-weights", "b"], "snapshot", "weights");
        yield return Flags("flag_test_weights_missing", d => ["test", "-model", Model(d), "-weights", d.Combine("missing.caffemodel")], "missing.caffemodel");
        yield return Flags("flag_time_weights_garbage", d =>
        {
            File.WriteAllBytes(d.Combine("g.caffemodel"), BadFiles.Random(999, 2));
            return ["time", "-model", Model(d), "-weights", d.Combine("g.caffemodel"), "-iterations", "1"];
        }, "g.caffemodel") with { Expect = ["g.caffemodel"] };
        yield return Flags("flag_extract_batches_zero", d => ExtractArgs(d, "ip", "feat", "0", "npy"), "num_mini_batches");
        yield return Flags("flag_extract_batches_negative", d => ExtractArgs(d, "ip", "feat", "-3", "npy"), "-3");
        yield return Flags("flag_extract_unknown_blob", d => ExtractArgs(d, "nope", "feat", "1", "npy"), "nope");
        yield return Flags("flag_extract_name_count", d => ExtractArgs(d, "ip,conv", "feat", "1", "npy"), "dataset names");
        yield return Flags("flag_extract_bad_db_type", d => ExtractArgs(d, "ip", "feat", "1", "hdf6"), "hdf6");
        yield return Flags("flag_extract_weights_missing", d => ["extract_features", d.Combine("none.caffemodel"), Model(d), "ip", d.Combine("feat"), "1", "npy"], "none.caffemodel");
        yield return Flags("flag_extract_output_missing_folder", d => ExtractArgs(d, "ip", "no/such/feat", "1", "npy"), "no/such");
        yield return Flags("flag_upgrade_net_missing", d => ["upgrade_net_proto_text", d.Combine("in.prototxt"), d.Combine("out.prototxt")], "in.prototxt");
        yield return Flags("flag_upgrade_net_syntax", d =>
        {
            File.WriteAllText(d.Combine("in.prototxt"), "layers { name: \"a\" type: RELU bottom: \"x\" top: \"x\"");
            return ["upgrade_net_proto_text", d.Combine("in.prototxt"), d.Combine("out.prototxt")];
        }, "in.prototxt:");
        yield return Flags("flag_upgrade_binary_garbage", d =>
        {
            File.WriteAllBytes(d.Combine("in.caffemodel"), BadFiles.Random(333, 1));
            return ["upgrade_net_proto_binary", d.Combine("in.caffemodel"), d.Combine("out.caffemodel")];
        }, "in.caffemodel");
        yield return Flags("flag_upgrade_solver_syntax", d =>
        {
            File.WriteAllText(d.Combine("in.prototxt"), "base_lr: 0.1 base_lr: 0.2");
            return ["upgrade_solver_proto_text", d.Combine("in.prototxt"), d.Combine("out.prototxt")];
        }, "in.prototxt:1:");
        yield return Flags("flag_upgrade_output_missing_folder", d =>
        {
            File.WriteAllText(d.Combine("in.prototxt"), Deploy);
            return ["upgrade_net_proto_text", d.Combine("in.prototxt"), d.Combine("no/such/out.prototxt")];
        }, "no/such");
        yield return Flags("flag_convert_mnist_missing_args", d => ["convert_mnist_data", d.Combine("a")], "convert_mnist_data");
        yield return Flags("flag_convert_imageset_missing_args", d => ["convert_imageset", d.Path], "convert_imageset");
        yield return Flags("flag_compute_mean_missing_args", _ => ["compute_image_mean"], "compute_image_mean");
        yield return Flags("flag_backend_leveldb_mean", d =>
        {
            BadFiles.Lmdb(d.Combine("db"), 2);
            return ["compute_image_mean", d.Combine("db"), d.Combine("m.binaryproto"), "-backend", "rocksdb"];
        }, "rocksdb");
    }

    private static string WeightsFile(TempDir d)
    {
        WeightFiles.Write(BadFiles.Weights(Deploy), d.Combine("w.caffemodel"));
        return d.Combine("w.caffemodel");
    }

    private static string[] ExtractArgs(TempDir d, string blobs, string names, string batches, string type)
    {
        string model = Model(d);
        WeightFiles.Write(BadFiles.Weights(Deploy), d.Combine("w.caffemodel"));
        string outputs = string.Join(',', names.Split(',').Select(d.Combine));
        return ["extract_features", d.Combine("w.caffemodel"), model, blobs, outputs, batches, type];
    }

    // ------------------------------------------------------------------ huge sizes (Slow)

    private static IEnumerable<BadCase> HugeCases()
    {
        yield return Net("huge_num_output", "layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 1 dim: 1 } } }\nlayer { name: \"ip\" type: \"InnerProduct\" bottom: \"data\" top: \"ip\" inner_product_param { num_output: 2000000000 } }", "ip") with { Slow = true };
        yield return Net("huge_input_46000", "layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 1 dim: 1 dim: 46000 dim: 46000 } } }\nlayer { name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\" convolution_param { num_output: 4 kernel_size: 3 } }", "data") with { Slow = true };
        yield return Net("huge_input_overflow", "layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 100000 dim: 100000 dim: 100000 } } }", "data");
        yield return Net("huge_dim_int64", "layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 1 dim: 99999999999 } } }", "data");
        yield return Net("huge_reshape", Deploy + "\nlayer { name: \"rs\" type: \"Reshape\" bottom: \"ip\" top: \"rs\" reshape_param { shape { dim: 0 dim: -1 dim: 100000 dim: 100000 } } }", "rs");
        yield return Net("huge_tile", Deploy + "\nlayer { name: \"tile\" type: \"Tile\" bottom: \"ip\" top: \"t\" tile_param { axis: 1 tiles: 2000000000 } }", "tile") with { Slow = true };
        yield return Net("huge_dummy", "layer { name: \"dummy\" type: \"DummyData\" top: \"a\" dummy_data_param { shape { dim: 50000 dim: 50000 } } }", "dummy") with { Slow = true };
        yield return Net("huge_conv_output", "layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 64 dim: 3 dim: 512 dim: 512 } } }\nlayer { name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\" convolution_param { num_output: 1024 kernel_size: 1 } }", "conv") with { Slow = true };
        yield return new("huge_prototxt_garbage", d =>
        {
            File.WriteAllText(d.Combine("bad.prototxt"), "layer { name: \"x\" " + new string('{', 5_000_000));
            return ["time", "-model", d.Combine("bad.prototxt")];
        }, ["bad.prototxt:1:"], LineColumn: true, Slow: true);
        yield return new("huge_prototxt_long_string", d =>
        {
            File.WriteAllText(d.Combine("bad.prototxt"), "name: \"" + new string('a', 30_000_000));
            return ["time", "-model", d.Combine("bad.prototxt")];
        }, ["bad.prototxt:1:"], LineColumn: true, Slow: true);
        yield return Mnist("huge_idx_gzip_count", () => BadFiles.IdxImages(2, 28, 28, gzip: true, declaredCount: int.MaxValue / 784), () => BadFiles.IdxLabels(2, int.MaxValue / 784), "idx") with { Slow = true };
        yield return DatumDb("huge_datum_65536", _ => new Datum { Channels = 1, Height = 65536, Width = 32767, Data = ByteString.CopyFrom(new byte[4]) }, "time", "'d'") with { Slow = true };
    }
}
