using Crema.Proto;
using PureHDF;

namespace Crema.Layers;

/// <summary>
/// Collects its two bottoms, batch after batch, and writes them to hdf5_output_param.file_name as float datasets "data"
/// (ΣN, C, H, W) and "label" (ΣN, …) when disposed or <see cref="Flush"/>ed: into a temporary file renamed over the target,
/// so a reader never sees half a file. No tops; no gradient.
/// </summary>
[LayerType("HDF5Output")]
public sealed class HDF5OutputLayer : Layer
{
    private readonly List<float> _data = [];
    private readonly List<float> _label = [];
    private int[] _dataShape = [];
    private int[] _labelShape = [];
    private int _rows;
    private bool _dirty;
    private bool _disposed;

    public HDF5OutputLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(2);

    public override BlobCount TopCount => BlobCount.Exactly(0);

    /// <summary>The .h5 file written by <see cref="Flush"/>.</summary>
    public string FileName => Param.Hdf5OutputParam?.FileName ?? "";

    /// <summary>Rows (items) written so far.</summary>
    public int Rows => _rows;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(FileName.Length > 0, "hdf5_output_param.file_name is required");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(FileName));
        Check(folder != null && Directory.Exists(folder), $"folder of file_name '{FileName}' does not exist");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(bottom[0].NumAxes > 0 && bottom[1].NumAxes > 0 && bottom[0].Shape[0] == bottom[1].Shape[0],
            $"data ({string.Join("×", bottom[0].Shape)}) and label ({string.Join("×", bottom[1].Shape)}) must have the same number of rows");
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Caffe writes 4-D blobs: a 1-D label (N) becomes (N, 1, 1, 1).
        var dataShape = Legacy4D(bottom[0]);
        var labelShape = Legacy4D(bottom[1]);
        if (_rows == 0)
        {
            _dataShape = dataShape;
            _labelShape = labelShape;
        }
        else
        {
            Check(dataShape.AsSpan(1).SequenceEqual(_dataShape.AsSpan(1)) && labelShape.AsSpan(1).SequenceEqual(_labelShape.AsSpan(1)),
                $"batch shapes data {string.Join("×", dataShape)}, label {string.Join("×", labelShape)} differ from the first batch's (data {string.Join("×", _dataShape)}, label {string.Join("×", _labelShape)}) past the row axis");
        }
        _data.AddRange(bottom[0].Data);
        _label.AddRange(bottom[1].Data);
        _rows += dataShape[0];
        _dirty = true;
    }

    private static int[] Legacy4D(Blob blob) => blob.NumAxes <= 4 ? [blob.Num, blob.Channels, blob.Height, blob.Width] : blob.Shape.ToArray();

    /// <summary>Writes everything collected so far (the file is replaced whole).</summary>
    public void Flush()
    {
        if (!_dirty)
        {
            return;
        }
        var dataShape = (int[])_dataShape.Clone();
        var labelShape = (int[])_labelShape.Clone();
        dataShape[0] = labelShape[0] = _rows;
        var file = new H5File
        {
            ["data"] = new H5Dataset(_data.ToArray(), fileDims: Array.ConvertAll(dataShape, d => (ulong)d)),
            ["label"] = new H5Dataset(_label.ToArray(), fileDims: Array.ConvertAll(labelShape, d => (ulong)d)),
        };
        string temp = FileName + ".tmp";
        try
        {
            file.Write(temp);
            File.Move(temp, FileName, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error($"cannot write '{FileName}': {e.Message}");
        }
        _dirty = false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            Flush();
            _disposed = true;
        }
        base.Dispose(disposing);
    }
}
