using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Crema;
using Net = Crema.Nets.Net;
using Crema.Proto;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenCvSharp.Dnn;

namespace Crema.Inference;

/// <summary>
/// Inference against ONNX Runtime and OpenCV DNN (driven by compare.sh inference mode):
///   prepare --model deploy.prototxt --batch B --out DIR   seeded random weights (He-scaled, random BatchNorm statistics)
///       as DIR/weights.caffemodel, the net at batch B as DIR/deploy.prototxt, DIR/graph.json + weights.bin (what
///       peers/caffe_to_onnx.py rebuilds in PyTorch to export DIR/model.onnx), DIR/input.bin (N(0, 1) noise) and
///       DIR/crema_output.bin (Crema's output on it).
///   run --dir DIR [--runs 20] [--warmup 3] [--threads 2] [--gap-ms 50] [--block 5]   Crema Net.Forward(), ORT session.Run and OpenCV net.forward,
///       interleaved (order rotated each run), median ms each, outputs checked against Crema's.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        Log.Quiet = true;
        try
        {
            return args.Length > 0 && args[0] == "prepare" ? Prepare(Options(args)) : args.Length > 0 && args[0] == "run" ? Run(Options(args)) : Usage();
        }
        catch (CremaException e)
        {
            Console.Error.WriteLine($"Crema.Inference: {e.Message}");
            return 1;
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Crema.Inference prepare --model M --batch B --out DIR | run --dir DIR [--runs 20] [--warmup 3] [--threads 2] [--gap-ms 50] [--block 5]");
        return 2;
    }

    private static Dictionary<string, string> Options(string[] args)
    {
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            o[args[i].TrimStart('-')] = args[i + 1];
        }
        return o;
    }

    private static int Int(Dictionary<string, string> o, string key, int fallback) =>
        o.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    // ------------------------------------------------------------------------------------------------ prepare

    private static int Prepare(Dictionary<string, string> o)
    {
        string dir = o["out"];
        Directory.CreateDirectory(dir);
        var param = ProtoFiles.ReadNetText(o["model"]);
        var input = param.Layer.First(l => l.Type == "Input");
        input.InputParam.Shape[0].Dim[0] = Int(o, "batch", 1);
        // Dropout layers are identities at TEST time; no peer needs them.
        param.State = new NetState { Phase = Phase.Test };
        ProtoFiles.WriteTextAtomic(param, Path.Combine(dir, "deploy.prototxt"));
        using var net = new Net(param, Phase.Test, dir);
        var random = new Random(1701);
        foreach (var layer in net.Layers)
        {
            FillWeights(layer.Type, layer.Blobs, random);
        }
        net.Save(Path.Combine(dir, "weights.caffemodel"));

        var data = net.InputBlobs[0];
        Gaussian(data.Data, random, 1f);
        WriteFloats(Path.Combine(dir, "input.bin"), data.Data);
        net.Forward();
        var output = net.OutputBlobs[^1];
        WriteFloats(Path.Combine(dir, "crema_output.bin"), output.Data);
        WriteGraph(net, Path.Combine(dir, "graph.json"), Path.Combine(dir, "weights.bin"), data, output);
        Console.WriteLine($"prepared {dir}: input {data.Name} ({string.Join(",", data.Shape)}), output {output.Name} ({string.Join(",", output.Shape)})");
        return 0;
    }

    // He-scaled weights keep activations O(1) through ReLUs; BatchNorm gets random but plausible statistics.
    private static void FillWeights(string type, List<Blob> blobs, Random random)
    {
        switch (type)
        {
            case "Convolution":
            case "InnerProduct":
            {
                var w = blobs[0];
                int fanIn = w.Count / w.Shape[0];
                Gaussian(w.Data, random, MathF.Sqrt(2f / fanIn));
                if (blobs.Count > 1)
                {
                    Uniform(blobs[1].Data, random, -0.1f, 0.1f);
                }
                break;
            }
            case "BatchNorm":
                Uniform(blobs[0].Data, random, -0.2f, 0.2f);
                Uniform(blobs[1].Data, random, 0.5f, 1.5f);
                blobs[2].Data[0] = 1f;
                break;
            case "Scale":
                // Below 1 on average: residual sums (ResNet) would otherwise grow each block.
                Uniform(blobs[0].Data, random, 0.3f, 0.8f);
                if (blobs.Count > 1)
                {
                    Uniform(blobs[1].Data, random, -0.1f, 0.1f);
                }
                break;
            default:
                foreach (var b in blobs)
                {
                    Uniform(b.Data, random, -0.1f, 0.1f);
                }
                break;
        }
    }

    private static void Gaussian(Span<float> v, Random random, float std)
    {
        for (int i = 0; i < v.Length; i++)
        {
            double u = 1.0 - random.NextDouble(), r = random.NextDouble();
            v[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2 * Math.PI * r));
        }
    }

    private static void Uniform(Span<float> v, Random random, float lo, float hi)
    {
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = lo + ((hi - lo) * (float)random.NextDouble());
        }
    }

    private static void WriteFloats(string path, ReadOnlySpan<float> values)
    {
        using var f = File.Create(path);
        f.Write(MemoryMarshal.AsBytes(values));
    }

    private static float[] ReadFloats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    // The layers in execution order with the parameters PyTorch needs, and every learnable blob appended to one file.
    private static void WriteGraph(Net net, string graphPath, string weightsPath, Blob input, Blob output)
    {
        using var weights = File.Create(weightsPath);
        long offset = 0;
        var layers = new List<Dictionary<string, object?>>();
        for (int i = 0; i < net.Layers.Count; i++)
        {
            var layer = net.Layers[i];
            var lp = layer.Param;
            var entry = new Dictionary<string, object?>
            {
                ["name"] = layer.Name,
                ["type"] = layer.Type,
                ["bottoms"] = net.BottomsOf(i).Select(b => b.Name).ToArray(),
                ["tops"] = net.TopsOf(i).Select(b => b.Name).ToArray(),
                ["top_shapes"] = net.TopsOf(i).Select(b => b.Shape.ToArray()).ToArray(),
            };
            var blobs = new List<object>();
            foreach (var b in layer.Blobs)
            {
                weights.Write(MemoryMarshal.AsBytes(b.Data));
                blobs.Add(new { offset, shape = b.Shape.ToArray() });
                offset += b.Count;
            }
            entry["blobs"] = blobs;
            switch (layer.Type)
            {
                case "Convolution":
                {
                    var c = lp.ConvolutionParam;
                    entry["num_output"] = c.NumOutput;
                    entry["kernel"] = Pair(c.KernelH, c.KernelW, c.KernelSize, 1);
                    entry["stride"] = Pair(c.StrideH, c.StrideW, c.Stride, 1);
                    entry["pad"] = Pair(c.PadH, c.PadW, c.Pad, 0);
                    entry["dilation"] = c.Dilation.Count > 0 ? (int)c.Dilation[0] : 1;
                    entry["group"] = c.Group;
                    entry["bias_term"] = c.BiasTerm;
                    break;
                }
                case "Pooling":
                {
                    var p = lp.PoolingParam;
                    entry["pool"] = p.Pool.ToString().ToUpperInvariant();
                    entry["kernel"] = Pair(p.KernelH, p.KernelW, p.HasKernelSize ? [p.KernelSize] : [], 1);
                    entry["stride"] = Pair(p.StrideH, p.StrideW, p.HasStride ? [p.Stride] : [], 1);
                    entry["pad"] = Pair(p.PadH, p.PadW, p.HasPad ? [p.Pad] : [], 0);
                    entry["global"] = p.GlobalPooling;
                    entry["ceil"] = p.RoundMode == PoolingParameter.Types.RoundMode.Ceil;
                    break;
                }
                case "LRN":
                {
                    var p = lp.LrnParam ?? new LRNParameter();
                    entry["local_size"] = p.LocalSize;
                    entry["alpha"] = p.Alpha;
                    entry["beta"] = p.Beta;
                    entry["k"] = p.K;
                    entry["across_channels"] = p.NormRegion == LRNParameter.Types.NormRegion.AcrossChannels;
                    break;
                }
                case "InnerProduct":
                    entry["transpose"] = lp.InnerProductParam.Transpose;
                    entry["axis"] = lp.InnerProductParam.Axis;
                    break;
                case "Concat":
                    entry["axis"] = lp.ConcatParam?.Axis ?? 1;
                    break;
                case "Softmax":
                    entry["axis"] = lp.SoftmaxParam?.Axis ?? 1;
                    break;
                case "BatchNorm":
                    entry["eps"] = lp.BatchNormParam?.Eps ?? 1e-5f;
                    break;
                case "Scale":
                    entry["bias_term"] = lp.ScaleParam?.BiasTerm ?? false;
                    break;
                case "Eltwise":
                    entry["operation"] = (lp.EltwiseParam?.Operation ?? EltwiseParameter.Types.EltwiseOp.Sum).ToString().ToUpperInvariant();
                    entry["coeffs"] = lp.EltwiseParam?.Coeff.ToArray() ?? [];
                    break;
                case "ReLU":
                    entry["negative_slope"] = lp.ReluParam?.NegativeSlope ?? 0f;
                    break;
            }
            layers.Add(entry);
        }
        var graph = new Dictionary<string, object?>
        {
            ["input"] = input.Name,
            ["input_shape"] = input.Shape.ToArray(),
            ["output"] = output.Name,
            ["output_shape"] = output.Shape.ToArray(),
            ["layers"] = layers,
        };
        File.WriteAllText(graphPath, JsonSerializer.Serialize(graph));
    }

    private static int[] Pair(uint h, uint w, IEnumerable<uint> size, int fallback)
    {
        var s = size.ToArray();
        if (h > 0 || w > 0)
        {
            return [(int)h, (int)w];
        }
        return s.Length switch
        {
            0 => [fallback, fallback],
            1 => [(int)s[0], (int)s[0]],
            _ => [(int)s[0], (int)s[1]],
        };
    }

    // ------------------------------------------------------------------------------------------------ run

    private static int Run(Dictionary<string, string> o)
    {
        string dir = o["dir"];
        int runs = Int(o, "runs", 20), warmup = Int(o, "warmup", 3), threads = Int(o, "threads", 2), gapMs = Int(o, "gap-ms", 50), block = Int(o, "block", 5);
        string prototxt = Path.Combine(dir, "deploy.prototxt"), caffemodel = Path.Combine(dir, "weights.caffemodel");
        float[] input = ReadFloats(Path.Combine(dir, "input.bin"));
        float[] reference = ReadFloats(Path.Combine(dir, "crema_output.bin"));

        Crema.Kernels.Gemm.ThreadCount = threads;
        using var net = new Net(ProtoFiles.ReadNetText(prototxt), Phase.Test, dir);
        net.CopyTrainedLayersFrom(caffemodel);
        net.OptimizeForInference(Crema.Nets.InferenceBlobs.OutputsOnly);
        var data = net.InputBlobs[0];
        input.CopyTo(data.Data);
        var output = net.OutputBlobs[^1];
        long[] shape = data.Shape.Select(d => (long)d).ToArray();

        var runners = new List<(string Name, Func<float[]> Forward)>
        {
            ("crema", () =>
            {
                input.CopyTo(data.Data);
                net.Forward();
                return output.Data.ToArray();
            }),
        };
        string onnxPath = Path.Combine(dir, "model.onnx");
        InferenceSession? session = null;
        if (File.Exists(onnxPath))
        {
            var so = new SessionOptions
            {
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            };
            session = new InferenceSession(onnxPath, so);
            string inName = session.InputMetadata.Keys.First(), outName = session.OutputMetadata.Keys.First();
            runners.Add(("onnxruntime", () =>
            {
                using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
                using var results = session.Run(new RunOptions(), [inName], [value], [outName]);
                return results[0].GetTensorDataAsSpan<float>().ToArray();
            }));
        }
        Cv2.SetNumThreads(threads);
        using var cvNet = CvDnn.ReadNetFromCaffe(prototxt, caffemodel) ?? throw new CremaException($"OpenCV could not read {prototxt}");
        cvNet.SetPreferableBackend(Backend.OPENCV);
        cvNet.SetPreferableTarget(Target.CPU);
        using var blob = new Mat(data.Shape.ToArray(), MatType.CV_32F);
        string cvOut = net.Layers[^1].Name;
        runners.Add(("opencv", () =>
        {
            Marshal.Copy(input, 0, blob.Data, input.Length);
            cvNet.SetInput(blob);
            using var y = cvNet.Forward(cvOut);
            var result = new float[y.Total()];
            Marshal.Copy(y.Data, result, 0, result.Length);
            return result;
        }));

        // Outputs first: every peer must give Crema's output to 1e-4.
        foreach (var (name, forward) in runners)
        {
            float[] y = forward();
            double maxDiff = y.Length == reference.Length ? reference.Zip(y, (a, b) => (double)Math.Abs(a - b)).Max() : double.NaN;
            Console.WriteLine(FormattableString.Invariant($"check {name}: max |{name} - crema-prepare| = {maxDiff:E2} over {y.Length} outputs ({(maxDiff <= 1e-4 ? "ok" : "MISMATCH")})"));
        }
        for (int w = 0; w < warmup; w++)
        {
            foreach (var (_, forward) in runners)
            {
                forward();
            }
        }
        // Interleaved in blocks: each runtime in turn does one untimed run (its pool wakes up) and then `block` timed
        // back-to-back runs, the order rotating every round. Between runtimes a pause lets the previous one's pool
        // threads stop spinning (ONNX Runtime spins after every Run), so no runtime is timed while another's idle
        // workers still hold a core, and each is timed in its steady state, as a server running requests back to back.
        var times = runners.ToDictionary(r => r.Name, _ => new List<double>());
        int rounds = (runs + block - 1) / block;
        for (int r = 0; r < rounds; r++)
        {
            for (int q = 0; q < runners.Count; q++)
            {
                var (name, forward) = runners[(q + r) % runners.Count];
                Thread.Sleep(gapMs);
                forward();
                for (int b = 0; b < block && times[name].Count < runs; b++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    forward();
                    times[name].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
            }
        }
        foreach (var (name, list) in times)
        {
            list.Sort();
            double median = list.Count % 2 == 1 ? list[list.Count / 2] : (list[(list.Count / 2) - 1] + list[list.Count / 2]) / 2;
            Console.WriteLine(FormattableString.Invariant($"time {name}: median {median:F2} ms over {list.Count} runs (min {list[0]:F2}, max {list[^1]:F2})"));
        }
        session?.Dispose();
        return 0;
    }
}
