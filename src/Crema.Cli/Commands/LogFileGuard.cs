using System.Text;
using System.Text.RegularExpressions;

namespace Crema.Cli.Commands;

/// <summary>
/// --log / -log_dir may only replace a file that is empty or already a glog-format log: a mistyped
/// `--log net.prototxt` must not turn the user's net into log lines.
/// </summary>
internal static partial class LogFileGuard
{
    public static void EnsureReplaceable(string file)
    {
        if (Directory.Exists(file) || !File.Exists(file))
        {
            return;
        }
        var head = new byte[64];
        int read;
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        if (read > 0 && !GlogLine().IsMatch(Encoding.ASCII.GetString(head, 0, read)))
        {
            throw new CremaException($"--log: '{file}' exists and is not a crema log; refusing to overwrite it (choose a new file or a folder)");
        }
    }

    // a glog line, the fatal line Crema appends, or the header glog (and -log_dir) starts a file with
    [GeneratedRegex(@"^([IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} |F |Log file created at: )")]
    private static partial Regex GlogLine();
}
