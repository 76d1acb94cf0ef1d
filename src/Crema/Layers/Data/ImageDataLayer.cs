using System.Globalization;
using Crema.Data;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Reads the images named in a list file of "path label" lines (root_folder + path), decoded to BGR or gray, optionally
/// resized to new_height × new_width, transformed into data (N, C, H, W) and label (N); wraps around at the end, reshuffling
/// each epoch when shuffle is set; batches are prefetched on a background thread.
/// </summary>
[LayerType("ImageData")]
public sealed class ImageDataLayer : PrefetchingDataLayer
{
    private readonly List<(string Path, int Label, int Line)> _lines = [];
    private int _next;

    public ImageDataLayer(LayerParameter param) : base(param) { }

    /// <summary>Two tops, as in Caffe: data and label.</summary>
    public override BlobCount TopCount => BlobCount.Exactly(2);

    private ImageDataParameter P => Param.ImageDataParam ?? new ImageDataParameter();

    /// <summary>transform_param, overridden by the deprecated image_data_param scale/mean_file/crop_size/mirror when set.</summary>
    protected override TransformationParameter TransformParam
    {
        get
        {
            var p = P;
            var t = WithLegacyTransform(p.HasScale ? p.Scale : null, p.HasMeanFile ? p.MeanFile : null,
                p.HasCropSize ? p.CropSize : null, p.HasMirror ? p.Mirror : null);
            return t;
        }
    }

    protected override void DataLayerSetUp(IReadOnlyList<Blob> top)
    {
        var p = P;
        Check((p.NewHeight == 0) == (p.NewWidth == 0), $"new_height ({p.NewHeight}) and new_width ({p.NewWidth}) must be set together");
        Check(p.BatchSize > 0, $"image_data_param.batch_size must be positive, got {p.BatchSize}");
        Check(p.HasSource && p.Source.Length > 0, "image_data_param.source is required");
        ReadList(p.Source);
        Check(_lines.Count > 0, $"list file '{p.Source}' names no images");
        if (p.Shuffle)
        {
            Rng.Shuffle(_lines);
        }
        _next = 0;
        if (p.RandSkip > 0)
        {
            int skip = Rng.NextInt((int)p.RandSkip);
            Check(skip < _lines.Count, $"rand_skip drew {skip}, but '{p.Source}' lists only {_lines.Count} images");
            _next = skip;
        }

        var shape = Transformer.InferShape(Load(_lines[_next]));
        shape[0] = (int)p.BatchSize;
        top[0].Reshape(shape);
        top[1].Reshape((int)p.BatchSize);
    }

    // Caffe's format: the label follows the last space, so paths may contain spaces.
    private void ReadList(string source)
    {
        string[] text;
        try
        {
            text = File.ReadAllLines(source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error($"cannot read list file '{source}': {e.Message}");
        }
        for (int i = 0; i < text.Length; i++)
        {
            string line = text[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }
            int space = line.LastIndexOfAny([' ', '\t']);
            if (space <= 0 || !int.TryParse(line.AsSpan(space + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out int label))
            {
                throw Error($"{source}:{i + 1}: expected 'path label', got '{line}'");
            }
            _lines.Add((line[..space].TrimEnd(), label, i + 1));
        }
    }

    private DecodedImage Load((string Path, int Label, int Line) entry)
    {
        var p = P;
        string path = p.RootFolder + entry.Path;
        try
        {
            return ImageDecoder.ReadFile(path, (int)p.NewHeight, (int)p.NewWidth, gray: !p.IsColor);
        }
        catch (CremaException e)
        {
            throw Error($"{p.Source}:{entry.Line}: could not load image '{path}': {e.Message}");
        }
    }

    protected override void LoadBatch(Batch batch)
    {
        int batchSize = (int)P.BatchSize;
        for (int item = 0; item < batchSize; item++)
        {
            var entry = _lines[_next];
            var image = Load(entry);
            if (item == 0)
            {
                // Each batch takes the shape of its first image, so lists of varying image size work with batch_size 1.
                var shape = Transformer.InferShape(image);
                shape[0] = batchSize;
                batch.Data.Reshape(shape);
                batch.Label.Reshape(batchSize);
            }
            int itemSize = batch.Data.Count / batchSize;
            Check(image.Data.Length == itemSize || Transformer.CropSize > 0,
                $"{P.Source}:{entry.Line}: image '{entry.Path}' is {image.Channels}×{image.Height}×{image.Width}, unlike the first of its batch; set new_height/new_width or batch_size 1");
            try
            {
                Transformer.Transform(image, batch.Data.Data.Slice(item * itemSize, itemSize));
            }
            catch (CremaException e)
            {
                throw Error($"{P.Source}:{entry.Line}: image '{entry.Path}': {e.Message}");
            }
            batch.Label.Data[item] = entry.Label;
            if (++_next == _lines.Count)
            {
                _next = 0;
                if (P.Shuffle)
                {
                    Rng.Shuffle(_lines);
                }
            }
        }
    }
}
