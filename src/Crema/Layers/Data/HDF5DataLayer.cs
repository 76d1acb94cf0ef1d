using Crema.Data;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Reads rows of HDF5 datasets named like the tops from the .h5 files listed in hdf5_data_param.source:
/// top[j] = dataset_j[row] for batch_size rows per Forward, moving file by file and wrapping around; shuffle permutes
/// the file order and the rows of each file (with <see cref="Rng"/>), as Caffe does.
/// </summary>
[LayerType("HDF5Data")]
public sealed class HDF5DataLayer : Layer
{
    private string[] _files = [];
    private int[] _filePermutation = [];
    private int _currentFile;
    private int[] _rowPermutation = [];
    private int _currentRow;
    private (float[] Values, int[] Shape)[] _datasets = [];

    public HDF5DataLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(0);

    public override BlobCount TopCount => BlobCount.AtLeast(1);

    private HDF5DataParameter P => Param.Hdf5DataParam ?? new HDF5DataParameter();

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(P.BatchSize > 0, $"hdf5_data_param.batch_size must be positive, got {P.BatchSize}");
        string source = P.Source;
        if (!File.Exists(source))
        {
            throw Error($"source list '{source}' not found (it should name one .h5 file per line)");
        }
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(source)) ?? ".";
        _files = File.ReadAllLines(source)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0)
            // Caffe resolves relative names against the working directory; fall back to the list's folder.
            .Select(l => File.Exists(l) || Path.IsPathRooted(l) ? l : Path.Combine(baseDir, l))
            .ToArray();
        Check(_files.Length > 0, $"must have at least one HDF5 file listed in '{source}'");
        _filePermutation = Enumerable.Range(0, _files.Length).ToArray();
        if (P.Shuffle)
        {
            Rng.Shuffle(_filePermutation);
        }
        _currentFile = 0;
        LoadFile(_files[_filePermutation[0]], top);
        _currentRow = 0;
    }

    private void LoadFile(string path, IReadOnlyList<Blob> top)
    {
        var datasets = new (float[] Values, int[] Shape)[top.Count];
        for (int j = 0; j < top.Count; j++)
        {
            string name = Param.Top.Count > j ? Param.Top[j] : top[j].Name;
            try
            {
                datasets[j] = Hdf5Datasets.ReadFloats(path, name);
            }
            catch (CremaException e)
            {
                throw Error(e.Message);
            }
            Check(datasets[j].Shape.Length >= 1, $"dataset '{name}' in '{path}' is a scalar; it needs a leading row axis");
            Check(datasets[j].Shape[0] == datasets[0].Shape[0],
                $"dataset '{name}' in '{path}' has {datasets[j].Shape[0]} rows but '{(Param.Top.Count > 0 ? Param.Top[0] : top[0].Name)}' has {datasets[0].Shape[0]}");
        }
        Check(datasets[0].Shape[0] > 0, $"'{path}' has no rows");
        _datasets = datasets;
        _rowPermutation = Enumerable.Range(0, datasets[0].Shape[0]).ToArray();
        if (P.Shuffle)
        {
            Rng.Shuffle(_rowPermutation);
        }
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        for (int j = 0; j < top.Count; j++)
        {
            var shape = _datasets[j].Shape.ToArray();
            shape[0] = (int)P.BatchSize;
            top[j].Reshape(shape);
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        int batchSize = (int)P.BatchSize;
        for (int i = 0; i < batchSize; i++)
        {
            for (int j = 0; j < top.Count; j++)
            {
                int rowSize = top[j].Count / batchSize;
                Check(_datasets[j].Values.Length / _datasets[j].Shape[0] == rowSize, $"rows of '{Param.Top[j]}' change size between files");
                _datasets[j].Values.AsSpan(_rowPermutation[_currentRow] * rowSize, rowSize).CopyTo(top[j].Data.Slice(i * rowSize, rowSize));
            }
            Next(top);
        }
    }

    private void Next(IReadOnlyList<Blob> top)
    {
        if (++_currentRow < _rowPermutation.Length)
        {
            return;
        }
        if (_files.Length > 1)
        {
            if (++_currentFile == _files.Length)
            {
                _currentFile = 0;
                if (P.Shuffle)
                {
                    Rng.Shuffle(_filePermutation);
                }
            }
            LoadFile(_files[_filePermutation[_currentFile]], top);
        }
        _currentRow = 0;
        if (P.Shuffle)
        {
            Rng.Shuffle(_rowPermutation);
        }
    }
}
