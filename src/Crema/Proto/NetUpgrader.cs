namespace Crema.Proto;

/// <summary>
/// Brings old Caffe net and solver definitions up to the current schema, following Caffe's upgrade_proto steps in order:
/// V0 (padding layers, nested V0LayerParameter) → V1, data-layer transform fields → transform_param, V1 → current
/// `layer`, net `input` fields → an Input layer, and BatchNorm param specs → lr_mult/decay_mult 0.
/// </summary>
public static class NetUpgrader
{
    public static bool NeedsUpgrade(NetParameter net)
    {
        ArgumentNullException.ThrowIfNull(net);
        return NeedsV0ToV1(net) || NeedsDataUpgrade(net) || NeedsV1ToV2(net) || NeedsInputUpgrade(net) || NeedsBatchNormUpgrade(net);
    }

    /// <summary>Returns an upgraded copy (the argument is not modified).</summary>
    public static NetParameter Upgrade(NetParameter net, string fileName)
    {
        ArgumentNullException.ThrowIfNull(net);
        var result = net.Clone();
        if (NeedsV0ToV1(result))
            result = UpgradeV0ToV1(result, fileName);
        if (NeedsDataUpgrade(result))
            UpgradeDataTransformation(result);
        if (NeedsV1ToV2(result))
            result = UpgradeV1ToV2(result, fileName);
        if (NeedsInputUpgrade(result))
            UpgradeInput(result, fileName);
        if (NeedsBatchNormUpgrade(result))
            UpgradeBatchNorm(result);
        return result;
    }

    public static bool NeedsSolverUpgrade(SolverParameter solver)
    {
        ArgumentNullException.ThrowIfNull(solver);
        return solver.HasSolverType;
    }

    /// <summary>Moves the deprecated <c>solver_type</c> enum into the <c>type</c> string, in place.</summary>
    public static void UpgradeSolver(SolverParameter solver, string fileName = "<solver>")
    {
        ArgumentNullException.ThrowIfNull(solver);
        if (!solver.HasSolverType)
            return;
        if (solver.HasType)
            throw new CremaException(
                $"{fileName}: solver sets both the deprecated 'solver_type: {solver.SolverType}' and 'type: \"{solver.Type}\"'; keep only 'type'");
        solver.Type = solver.SolverType switch
        {
            SolverParameter.Types.SolverType.Sgd => "SGD",
            SolverParameter.Types.SolverType.Nesterov => "Nesterov",
            SolverParameter.Types.SolverType.Adagrad => "AdaGrad",
            SolverParameter.Types.SolverType.Rmsprop => "RMSProp",
            SolverParameter.Types.SolverType.Adadelta => "AdaDelta",
            SolverParameter.Types.SolverType.Adam => "Adam",
            var other => throw new CremaException($"{fileName}: unknown solver_type {other}"),
        };
        solver.ClearSolverType();
    }

    // ---------------------------------------------------------------- V0 → V1

    internal static bool NeedsV0ToV1(NetParameter net) => net.Layers.Any(l => l.Layer is not null);

    internal static NetParameter UpgradeV0ToV1(NetParameter v0, string fileName)
    {
        var padded = UpgradeV0PaddingLayers(v0, fileName);
        var net = new NetParameter();
        if (padded.HasName)
            net.Name = padded.Name;
        foreach (var connection in padded.Layers)
            net.Layers.Add(UpgradeV0Layer(connection, fileName));
        net.Input.AddRange(padded.Input);
        net.InputDim.AddRange(padded.InputDim);
        if (padded.HasForceBackward)
            net.ForceBackward = padded.ForceBackward;
        return net;
    }

    /// <summary>V0 nets had separate "padding" layers; fold each into the pad of the conv/pool layer it feeds.</summary>
    internal static NetParameter UpgradeV0PaddingLayers(NetParameter net, string fileName)
    {
        var result = net.Clone();
        result.Layers.Clear();
        // blob name → index of the V0 layer that last produced it (-1: a net input)
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in net.Input)
            producer[input] = -1;
        for (int i = 0; i < net.Layers.Count; i++)
        {
            var connection = net.Layers[i];
            var layer = connection.Layer ?? new V0LayerParameter();
            if (layer.Type != "padding")
                result.Layers.Add(connection.Clone());
            for (int j = 0; j < connection.Bottom.Count; j++)
            {
                string blob = connection.Bottom[j];
                if (!producer.TryGetValue(blob, out int source))
                    throw new CremaException($"{fileName}: V0 layer '{layer.Name}' takes unknown input blob '{blob}'");
                if (source < 0 || net.Layers[source].Layer?.Type != "padding")
                    continue;
                var pad = net.Layers[source];
                if (layer.Type is not ("conv" or "pool"))
                    throw new CremaException(
                        $"{fileName}: V0 padding layer '{pad.Layer!.Name}' feeds layer '{layer.Name}' of type '{layer.Type}'; only conv and pool layers can absorb padding");
                if (connection.Bottom.Count != 1 || pad.Bottom.Count != 1 || pad.Top.Count != 1)
                    throw new CremaException(
                        $"{fileName}: V0 padding layer '{pad.Layer!.Name}' and layer '{layer.Name}' must each have exactly one input and output to be merged");
                var upgraded = result.Layers[^1];
                upgraded.Layer.Pad = pad.Layer!.Pad;
                upgraded.Bottom[j] = pad.Bottom[0];
            }
            foreach (var top in connection.Top)
                producer[top] = i;
        }
        return result;
    }

    private static V1LayerParameter UpgradeV0Layer(V1LayerParameter connection, string fileName)
    {
        var v1 = new V1LayerParameter();
        v1.Bottom.AddRange(connection.Bottom);
        v1.Top.AddRange(connection.Top);
        var v0 = connection.Layer;
        if (v0 is null)
            return v1;
        if (v0.HasName)
            v1.Name = v0.Name;
        string type = v0.Type;
        if (v0.HasType)
            v1.Type = UpgradeV0LayerType(type, v0.Name, fileName);
        v1.Blobs.AddRange(v0.Blobs.Select(b => b.Clone()));
        v1.BlobsLr.AddRange(v0.BlobsLr);
        v1.WeightDecay.AddRange(v0.WeightDecay);

        CremaException NotFor(string field) =>
            new($"{fileName}: V0 layer '{v0.Name}' of type '{type}' has parameter '{field}', which that layer type does not take");

        ConvolutionParameter Conv() => v1.ConvolutionParam ??= new ConvolutionParameter();
        PoolingParameter Pool() => v1.PoolingParam ??= new PoolingParameter();
        InnerProductParameter Ip() => v1.InnerProductParam ??= new InnerProductParameter();
        LRNParameter Lrn() => v1.LrnParam ??= new LRNParameter();
        DataParameter Data() => v1.DataParam ??= new DataParameter();
        ImageDataParameter Images() => v1.ImageDataParam ??= new ImageDataParameter();
        WindowDataParameter Window() => v1.WindowDataParam ??= new WindowDataParameter();
        HDF5DataParameter Hdf5() => v1.Hdf5DataParam ??= new HDF5DataParameter();
        TransformationParameter Transform() => v1.TransformParam ??= new TransformationParameter();

        if (v0.HasNumOutput)
        {
            if (type == "conv") Conv().NumOutput = v0.NumOutput;
            else if (type == "innerproduct") Ip().NumOutput = v0.NumOutput;
            else throw NotFor("num_output");
        }
        if (v0.HasBiasterm)
        {
            if (type == "conv") Conv().BiasTerm = v0.Biasterm;
            else if (type == "innerproduct") Ip().BiasTerm = v0.Biasterm;
            else throw NotFor("biasterm");
        }
        if (v0.WeightFiller is not null)
        {
            if (type == "conv") Conv().WeightFiller = v0.WeightFiller.Clone();
            else if (type == "innerproduct") Ip().WeightFiller = v0.WeightFiller.Clone();
            else throw NotFor("weight_filler");
        }
        if (v0.BiasFiller is not null)
        {
            if (type == "conv") Conv().BiasFiller = v0.BiasFiller.Clone();
            else if (type == "innerproduct") Ip().BiasFiller = v0.BiasFiller.Clone();
            else throw NotFor("bias_filler");
        }
        if (v0.HasPad)
        {
            if (type == "conv") Conv().Pad.Add(v0.Pad);
            else if (type == "pool") Pool().Pad = v0.Pad;
            else throw NotFor("pad");
        }
        if (v0.HasKernelsize)
        {
            if (type == "conv") Conv().KernelSize.Add(v0.Kernelsize);
            else if (type == "pool") Pool().KernelSize = v0.Kernelsize;
            else throw NotFor("kernelsize");
        }
        if (v0.HasGroup)
        {
            if (type == "conv") Conv().Group = v0.Group;
            else throw NotFor("group");
        }
        if (v0.HasStride)
        {
            if (type == "conv") Conv().Stride.Add(v0.Stride);
            else if (type == "pool") Pool().Stride = v0.Stride;
            else throw NotFor("stride");
        }
        if (v0.HasPool)
        {
            if (type != "pool") throw NotFor("pool");
            Pool().Pool = v0.Pool switch
            {
                V0LayerParameter.Types.PoolMethod.Max => PoolingParameter.Types.PoolMethod.Max,
                V0LayerParameter.Types.PoolMethod.Ave => PoolingParameter.Types.PoolMethod.Ave,
                V0LayerParameter.Types.PoolMethod.Stochastic => PoolingParameter.Types.PoolMethod.Stochastic,
                var other => throw new CremaException($"{fileName}: V0 layer '{v0.Name}' has unknown pool method {other}"),
            };
        }
        if (v0.HasDropoutRatio)
        {
            if (type == "dropout") (v1.DropoutParam ??= new DropoutParameter()).DropoutRatio = v0.DropoutRatio;
            else throw NotFor("dropout_ratio");
        }
        if (v0.HasLocalSize)
        {
            if (type == "lrn") Lrn().LocalSize = v0.LocalSize;
            else throw NotFor("local_size");
        }
        if (v0.HasAlpha)
        {
            if (type == "lrn") Lrn().Alpha = v0.Alpha;
            else throw NotFor("alpha");
        }
        if (v0.HasBeta)
        {
            if (type == "lrn") Lrn().Beta = v0.Beta;
            else throw NotFor("beta");
        }
        if (v0.HasK)
        {
            if (type == "lrn") Lrn().K = v0.K;
            else throw NotFor("k");
        }
        if (v0.HasSource)
        {
            switch (type)
            {
                case "data": Data().Source = v0.Source; break;
                case "hdf5_data": Hdf5().Source = v0.Source; break;
                case "images": Images().Source = v0.Source; break;
                case "window_data": Window().Source = v0.Source; break;
                case "infogain_loss": (v1.InfogainLossParam ??= new InfogainLossParameter()).Source = v0.Source; break;
                default: throw NotFor("source");
            }
        }
        if (v0.HasScale)
            Transform().Scale = v0.Scale;
        if (v0.HasMeanfile)
            Transform().MeanFile = v0.Meanfile;
        if (v0.HasBatchsize)
        {
            switch (type)
            {
                case "data": Data().BatchSize = v0.Batchsize; break;
                case "hdf5_data": Hdf5().BatchSize = v0.Batchsize; break;
                case "images": Images().BatchSize = v0.Batchsize; break;
                case "window_data": Window().BatchSize = v0.Batchsize; break;
                default: throw NotFor("batchsize");
            }
        }
        if (v0.HasCropsize)
            Transform().CropSize = v0.Cropsize;
        if (v0.HasMirror)
            Transform().Mirror = v0.Mirror;
        if (v0.HasRandSkip)
        {
            if (type == "data") Data().RandSkip = v0.RandSkip;
            else if (type == "images") Images().RandSkip = v0.RandSkip;
            else throw NotFor("rand_skip");
        }
        if (v0.HasShuffleImages)
        {
            if (type == "images") Images().Shuffle = v0.ShuffleImages;
            else throw NotFor("shuffle_images");
        }
        if (v0.HasNewHeight)
        {
            if (type == "images") Images().NewHeight = (uint)v0.NewHeight;
            else throw NotFor("new_height");
        }
        if (v0.HasNewWidth)
        {
            if (type == "images") Images().NewWidth = (uint)v0.NewWidth;
            else throw NotFor("new_width");
        }
        if (v0.HasConcatDim)
        {
            if (type == "concat") (v1.ConcatParam ??= new ConcatParameter()).ConcatDim = v0.ConcatDim;
            else throw NotFor("concat_dim");
        }
        if (v0.HasDetFgThreshold)
        {
            if (type == "window_data") Window().FgThreshold = v0.DetFgThreshold;
            else throw NotFor("det_fg_threshold");
        }
        if (v0.HasDetBgThreshold)
        {
            if (type == "window_data") Window().BgThreshold = v0.DetBgThreshold;
            else throw NotFor("det_bg_threshold");
        }
        if (v0.HasDetFgFraction)
        {
            if (type == "window_data") Window().FgFraction = v0.DetFgFraction;
            else throw NotFor("det_fg_fraction");
        }
        if (v0.HasDetContextPad)
        {
            if (type == "window_data") Window().ContextPad = v0.DetContextPad;
            else throw NotFor("det_context_pad");
        }
        if (v0.HasDetCropMode)
        {
            if (type == "window_data") Window().CropMode = v0.DetCropMode;
            else throw NotFor("det_crop_mode");
        }
        if (v0.Hdf5OutputParam is not null)
        {
            if (type == "hdf5_output") v1.Hdf5OutputParam = v0.Hdf5OutputParam.Clone();
            else throw NotFor("hdf5_output_param");
        }
        return v1;
    }

    private static V1LayerParameter.Types.LayerType UpgradeV0LayerType(string type, string layerName, string fileName) => type switch
    {
        "accuracy" => V1LayerParameter.Types.LayerType.Accuracy,
        "bnll" => V1LayerParameter.Types.LayerType.Bnll,
        "concat" => V1LayerParameter.Types.LayerType.Concat,
        "conv" => V1LayerParameter.Types.LayerType.Convolution,
        "data" => V1LayerParameter.Types.LayerType.Data,
        "dropout" => V1LayerParameter.Types.LayerType.Dropout,
        "euclidean_loss" => V1LayerParameter.Types.LayerType.EuclideanLoss,
        "flatten" => V1LayerParameter.Types.LayerType.Flatten,
        "hdf5_data" => V1LayerParameter.Types.LayerType.Hdf5Data,
        "hdf5_output" => V1LayerParameter.Types.LayerType.Hdf5Output,
        "im2col" => V1LayerParameter.Types.LayerType.Im2Col,
        "images" => V1LayerParameter.Types.LayerType.ImageData,
        "infogain_loss" => V1LayerParameter.Types.LayerType.InfogainLoss,
        "innerproduct" => V1LayerParameter.Types.LayerType.InnerProduct,
        "lrn" => V1LayerParameter.Types.LayerType.Lrn,
        "multinomial_logistic_loss" => V1LayerParameter.Types.LayerType.MultinomialLogisticLoss,
        "pool" => V1LayerParameter.Types.LayerType.Pooling,
        "relu" => V1LayerParameter.Types.LayerType.Relu,
        "sigmoid" => V1LayerParameter.Types.LayerType.Sigmoid,
        "softmax" => V1LayerParameter.Types.LayerType.Softmax,
        "softmax_loss" => V1LayerParameter.Types.LayerType.SoftmaxLoss,
        "split" => V1LayerParameter.Types.LayerType.Split,
        "tanh" => V1LayerParameter.Types.LayerType.Tanh,
        "window_data" => V1LayerParameter.Types.LayerType.WindowData,
        _ => throw new CremaException($"{fileName}: V0 layer '{layerName}' has unknown type '{type}'"),
    };

    // ---------------------------------------------------------------- data transformation fields

    internal static bool NeedsDataUpgrade(NetParameter net) => net.Layers.Any(l => l.Type switch
    {
        V1LayerParameter.Types.LayerType.Data => l.DataParam is { } p && (p.HasScale || p.HasMeanFile || p.HasCropSize || p.HasMirror),
        V1LayerParameter.Types.LayerType.ImageData => l.ImageDataParam is { } p && (p.HasScale || p.HasMeanFile || p.HasCropSize || p.HasMirror),
        V1LayerParameter.Types.LayerType.WindowData => l.WindowDataParam is { } p && (p.HasScale || p.HasMeanFile || p.HasCropSize || p.HasMirror),
        _ => false,
    });

    /// <summary>Moves scale/mean_file/crop_size/mirror of V1 data layers into transform_param.</summary>
    internal static void UpgradeDataTransformation(NetParameter net)
    {
        foreach (var layer in net.Layers)
        {
            switch (layer.Type)
            {
                case V1LayerParameter.Types.LayerType.Data when layer.DataParam is { } p:
                    {
                        var t = layer.TransformParam ??= new TransformationParameter();
                        if (p.HasScale) { t.Scale = p.Scale; p.ClearScale(); }
                        if (p.HasMeanFile) { t.MeanFile = p.MeanFile; p.ClearMeanFile(); }
                        if (p.HasCropSize) { t.CropSize = p.CropSize; p.ClearCropSize(); }
                        if (p.HasMirror) { t.Mirror = p.Mirror; p.ClearMirror(); }
                        break;
                    }
                case V1LayerParameter.Types.LayerType.ImageData when layer.ImageDataParam is { } p:
                    {
                        var t = layer.TransformParam ??= new TransformationParameter();
                        if (p.HasScale) { t.Scale = p.Scale; p.ClearScale(); }
                        if (p.HasMeanFile) { t.MeanFile = p.MeanFile; p.ClearMeanFile(); }
                        if (p.HasCropSize) { t.CropSize = p.CropSize; p.ClearCropSize(); }
                        if (p.HasMirror) { t.Mirror = p.Mirror; p.ClearMirror(); }
                        break;
                    }
                case V1LayerParameter.Types.LayerType.WindowData when layer.WindowDataParam is { } p:
                    {
                        var t = layer.TransformParam ??= new TransformationParameter();
                        if (p.HasScale) { t.Scale = p.Scale; p.ClearScale(); }
                        if (p.HasMeanFile) { t.MeanFile = p.MeanFile; p.ClearMeanFile(); }
                        if (p.HasCropSize) { t.CropSize = p.CropSize; p.ClearCropSize(); }
                        if (p.HasMirror) { t.Mirror = p.Mirror; p.ClearMirror(); }
                        break;
                    }
            }
        }
    }

    // ---------------------------------------------------------------- V1 → current

    internal static bool NeedsV1ToV2(NetParameter net) => net.Layers.Count > 0;

    internal static NetParameter UpgradeV1ToV2(NetParameter v1, string fileName)
    {
        if (v1.Layer.Count > 0)
            throw new CremaException(
                $"{fileName}: net '{v1.Name}' mixes the deprecated 'layers' (V1, e.g. '{v1.Layers[0].Name}') with current 'layer' entries (e.g. '{v1.Layer[0].Name}'); use only 'layer'");
        var net = v1.Clone();
        net.Layers.Clear();
        foreach (var old in v1.Layers)
            net.Layer.Add(UpgradeV1Layer(old, fileName));
        return net;
    }

    private static LayerParameter UpgradeV1Layer(V1LayerParameter v1, string fileName)
    {
        if (v1.Layer is not null)
            throw new CremaException($"{fileName}: V1 layer '{v1.Name}' still holds a nested V0 'layer' definition; it cannot be upgraded");
        var layer = new LayerParameter();
        layer.Bottom.AddRange(v1.Bottom);
        layer.Top.AddRange(v1.Top);
        if (v1.HasName)
            layer.Name = v1.Name;
        layer.Include.AddRange(v1.Include.Select(r => r.Clone()));
        layer.Exclude.AddRange(v1.Exclude.Select(r => r.Clone()));
        if (v1.HasType)
            layer.Type = UpgradeV1LayerType(v1.Type, v1.Name, fileName);
        layer.Blobs.AddRange(v1.Blobs.Select(b => b.Clone()));

        ParamSpec Param(int i)
        {
            while (layer.Param.Count <= i)
                layer.Param.Add(new ParamSpec());
            return layer.Param[i];
        }
        for (int i = 0; i < v1.Param.Count; i++)
            Param(i).Name = v1.Param[i];
        for (int i = 0; i < v1.BlobShareMode.Count; i++)
        {
            Param(i).ShareMode = v1.BlobShareMode[i] == V1LayerParameter.Types.DimCheckMode.Permissive
                ? ParamSpec.Types.DimCheckMode.Permissive
                : ParamSpec.Types.DimCheckMode.Strict;
        }
        for (int i = 0; i < v1.BlobsLr.Count; i++)
            Param(i).LrMult = v1.BlobsLr[i];
        for (int i = 0; i < v1.WeightDecay.Count; i++)
            Param(i).DecayMult = v1.WeightDecay[i];
        layer.LossWeight.AddRange(v1.LossWeight);

        layer.AccuracyParam = v1.AccuracyParam?.Clone();
        layer.ArgmaxParam = v1.ArgmaxParam?.Clone();
        layer.ConcatParam = v1.ConcatParam?.Clone();
        layer.ContrastiveLossParam = v1.ContrastiveLossParam?.Clone();
        layer.ConvolutionParam = v1.ConvolutionParam?.Clone();
        layer.DataParam = v1.DataParam?.Clone();
        layer.DropoutParam = v1.DropoutParam?.Clone();
        layer.DummyDataParam = v1.DummyDataParam?.Clone();
        layer.EltwiseParam = v1.EltwiseParam?.Clone();
        layer.ExpParam = v1.ExpParam?.Clone();
        layer.Hdf5DataParam = v1.Hdf5DataParam?.Clone();
        layer.Hdf5OutputParam = v1.Hdf5OutputParam?.Clone();
        layer.HingeLossParam = v1.HingeLossParam?.Clone();
        layer.ImageDataParam = v1.ImageDataParam?.Clone();
        layer.InfogainLossParam = v1.InfogainLossParam?.Clone();
        layer.InnerProductParam = v1.InnerProductParam?.Clone();
        layer.LrnParam = v1.LrnParam?.Clone();
        layer.MemoryDataParam = v1.MemoryDataParam?.Clone();
        layer.MvnParam = v1.MvnParam?.Clone();
        layer.PoolingParam = v1.PoolingParam?.Clone();
        layer.PowerParam = v1.PowerParam?.Clone();
        layer.ReluParam = v1.ReluParam?.Clone();
        layer.SigmoidParam = v1.SigmoidParam?.Clone();
        layer.SoftmaxParam = v1.SoftmaxParam?.Clone();
        layer.SliceParam = v1.SliceParam?.Clone();
        layer.TanhParam = v1.TanhParam?.Clone();
        layer.ThresholdParam = v1.ThresholdParam?.Clone();
        layer.WindowDataParam = v1.WindowDataParam?.Clone();
        layer.TransformParam = v1.TransformParam?.Clone();
        layer.LossParam = v1.LossParam?.Clone();
        return layer;
    }

    private static string UpgradeV1LayerType(V1LayerParameter.Types.LayerType type, string layerName, string fileName) => type switch
    {
        V1LayerParameter.Types.LayerType.None => "",
        V1LayerParameter.Types.LayerType.Absval => "AbsVal",
        V1LayerParameter.Types.LayerType.Accuracy => "Accuracy",
        V1LayerParameter.Types.LayerType.Argmax => "ArgMax",
        V1LayerParameter.Types.LayerType.Bnll => "BNLL",
        V1LayerParameter.Types.LayerType.Concat => "Concat",
        V1LayerParameter.Types.LayerType.ContrastiveLoss => "ContrastiveLoss",
        V1LayerParameter.Types.LayerType.Convolution => "Convolution",
        V1LayerParameter.Types.LayerType.Deconvolution => "Deconvolution",
        V1LayerParameter.Types.LayerType.Data => "Data",
        V1LayerParameter.Types.LayerType.Dropout => "Dropout",
        V1LayerParameter.Types.LayerType.DummyData => "DummyData",
        V1LayerParameter.Types.LayerType.EuclideanLoss => "EuclideanLoss",
        V1LayerParameter.Types.LayerType.Eltwise => "Eltwise",
        V1LayerParameter.Types.LayerType.Exp => "Exp",
        V1LayerParameter.Types.LayerType.Flatten => "Flatten",
        V1LayerParameter.Types.LayerType.Hdf5Data => "HDF5Data",
        V1LayerParameter.Types.LayerType.Hdf5Output => "HDF5Output",
        V1LayerParameter.Types.LayerType.HingeLoss => "HingeLoss",
        V1LayerParameter.Types.LayerType.Im2Col => "Im2col",
        V1LayerParameter.Types.LayerType.ImageData => "ImageData",
        V1LayerParameter.Types.LayerType.InfogainLoss => "InfogainLoss",
        V1LayerParameter.Types.LayerType.InnerProduct => "InnerProduct",
        V1LayerParameter.Types.LayerType.Lrn => "LRN",
        V1LayerParameter.Types.LayerType.MemoryData => "MemoryData",
        V1LayerParameter.Types.LayerType.MultinomialLogisticLoss => "MultinomialLogisticLoss",
        V1LayerParameter.Types.LayerType.Mvn => "MVN",
        V1LayerParameter.Types.LayerType.Pooling => "Pooling",
        V1LayerParameter.Types.LayerType.Power => "Power",
        V1LayerParameter.Types.LayerType.Relu => "ReLU",
        V1LayerParameter.Types.LayerType.Sigmoid => "Sigmoid",
        V1LayerParameter.Types.LayerType.SigmoidCrossEntropyLoss => "SigmoidCrossEntropyLoss",
        V1LayerParameter.Types.LayerType.Silence => "Silence",
        V1LayerParameter.Types.LayerType.Softmax => "Softmax",
        V1LayerParameter.Types.LayerType.SoftmaxLoss => "SoftmaxWithLoss",
        V1LayerParameter.Types.LayerType.Split => "Split",
        V1LayerParameter.Types.LayerType.Slice => "Slice",
        V1LayerParameter.Types.LayerType.Tanh => "TanH",
        V1LayerParameter.Types.LayerType.WindowData => "WindowData",
        V1LayerParameter.Types.LayerType.Threshold => "Threshold",
        _ => throw new CremaException($"{fileName}: V1 layer '{layerName}' has unknown type {(int)type}"),
    };

    // ---------------------------------------------------------------- input fields, BatchNorm

    internal static bool NeedsInputUpgrade(NetParameter net) => net.Input.Count > 0;

    /// <summary>Turns net-level input/input_dim/input_shape into a leading Input layer.</summary>
    internal static void UpgradeInput(NetParameter net, string fileName)
    {
        bool hasShape = net.InputShape.Count > 0;
        bool hasDim = net.InputDim.Count > 0;
        // Inputs without shapes come from old binary models: dropping them is enough.
        if (hasShape || hasDim)
        {
            var input = new LayerParameter { Name = "input", Type = "Input", InputParam = new InputParameter() };
            for (int i = 0; i < net.Input.Count; i++)
            {
                input.Top.Add(net.Input[i]);
                if (hasShape)
                {
                    if (i >= net.InputShape.Count)
                        throw new CremaException($"{fileName}: input '{net.Input[i]}' has no input_shape ({net.InputShape.Count} given for {net.Input.Count} inputs)");
                    input.InputParam.Shape.Add(net.InputShape[i].Clone());
                }
                else
                {
                    if (net.InputDim.Count < 4 * (i + 1))
                        throw new CremaException($"{fileName}: input '{net.Input[i]}' needs 4 input_dim values ({net.InputDim.Count} given for {net.Input.Count} inputs)");
                    var shape = new BlobShape();
                    for (int j = 4 * i; j < 4 * i + 4; j++)
                        shape.Dim.Add(net.InputDim[j]);
                    input.InputParam.Shape.Add(shape);
                }
            }
            net.Layer.Insert(0, input);
        }
        net.Input.Clear();
        net.InputShape.Clear();
        net.InputDim.Clear();
    }

    /// <summary>Old BatchNorm definitions declared three param specs; its statistics must never be learned.</summary>
    internal static bool NeedsBatchNormUpgrade(NetParameter net) =>
        net.Layer.Any(l => l.Type == "BatchNorm" && l.Param.Count == 3 && l.Param.Any(p => p.LrMult != 0 || p.DecayMult != 0));

    internal static void UpgradeBatchNorm(NetParameter net)
    {
        foreach (var layer in net.Layer.Where(l => l.Type == "BatchNorm" && l.Param.Count == 3))
        {
            foreach (var spec in layer.Param)
            {
                spec.LrMult = 0;
                spec.DecayMult = 0;
            }
        }
    }
}
