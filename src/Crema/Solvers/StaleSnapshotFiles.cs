using System.Text.RegularExpressions;

namespace Crema.Solvers;

/// <summary>
/// Snapshots are written to `&lt;file&gt;.tmp` and renamed; a run killed mid-write leaves the .tmp behind. A new run with the
/// same snapshot_prefix removes those leftovers (only names a snapshot of this prefix would have).
/// </summary>
internal static class StaleSnapshotFiles
{
    public static void Remove(string snapshotPrefix)
    {
        if (string.IsNullOrEmpty(snapshotPrefix))
        {
            return;
        }
        string full = Path.GetFullPath(snapshotPrefix);
        string? folder = Path.GetDirectoryName(full);
        string stem = Path.GetFileName(full);
        if (folder == null || stem.Length == 0 || !Directory.Exists(folder))
        {
            return;
        }
        var pattern = new Regex("^" + Regex.Escape(stem) + @"_iter_\d+\.(caffemodel|solverstate)(\.h5)?\.tmp$", RegexOptions.CultureInvariant);
        foreach (string file in Directory.EnumerateFiles(folder, stem + "_iter_*.tmp"))
        {
            if (!pattern.IsMatch(Path.GetFileName(file)))
            {
                continue;
            }
            try
            {
                File.Delete(file);
                Log.Info($"Removed stale snapshot temporary file {file}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.Warning($"Cannot remove stale snapshot temporary file {file}: {e.Message}");
            }
        }
    }
}
