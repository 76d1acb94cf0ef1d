using System.Globalization;

namespace Crema.Cli.Commands;

/// <summary>
/// A log file in a folder, named as glog names Caffe's (logging.cc, LogFileObject::Write/CreateLogfile):
/// <c>&lt;dir&gt;/crema.&lt;host&gt;.&lt;user&gt;.log.INFO.&lt;yyyymmdd&gt;-&lt;hhmmss&gt;.&lt;pid&gt;</c> (local time), opened only if new,
/// starting with glog's four header lines, and a relative symlink <c>&lt;dir&gt;/crema.INFO</c> moved to the newest file.
/// Only the INFO file is written (it holds every severity); glog's separate WARNING/ERROR files are not.
/// </summary>
internal static class GlogLogFile
{
    public const string Program = "crema";

    /// <summary>glog's name for a log created at <paramref name="time"/> by process <paramref name="pid"/>.</summary>
    public static string FileName(DateTime time, int pid) =>
        string.Create(CultureInfo.InvariantCulture, $"{Program}.{HostName()}.{UserName()}.log.INFO.{time:yyyyMMdd-HHmmss}.{pid}");

    /// <summary>Creates a new log in <paramref name="folder"/>, makes it <see cref="Log.File"/>, points crema.INFO at it and returns its path.</summary>
    public static string Open(string folder, DateTime now)
    {
        string name = FileName(now, Environment.ProcessId);
        FileStream? stream = null;
        string path = "";
        // glog opens with O_EXCL; a second log in the same second from the same process (in-process callers) gets a suffix.
        for (int n = 0; stream is null; n++)
        {
            path = Path.Combine(folder, n == 0 ? name : $"{name}.{n}");
            try
            {
                stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            }
            catch (IOException) when (File.Exists(path) && n < 1000)
            {
                // taken: try the next suffix
            }
        }
        var writer = new StreamWriter(stream) { AutoFlush = true, NewLine = "\n" };
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Log file created at: {now:yyyy/MM/dd HH:mm:ss}"));
        writer.WriteLine($"Running on machine: {HostName()}");
        writer.WriteLine("Running duration (h:mm:ss): 0:00:00");
        writer.WriteLine("Log line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg");
        Log.File = writer;
        PointLink(folder, Path.GetFileName(path));
        return path;
    }

    // crema.INFO → the new file, relative so the folder can move. glog unlinks whatever has that name; Crema replaces
    // only a symlink (never a file of the user's), through a rename so the link is never missing.
    private static void PointLink(string folder, string target)
    {
        string link = Path.Combine(folder, Program + ".INFO");
        var existing = new FileInfo(link);
        if (existing.Exists || Directory.Exists(link))
        {
            if (existing.LinkTarget is null)
            {
                Log.Warning($"{link} exists and is not a symlink; leaving it alone (the log is {target})");
                return;
            }
        }
        string temporary = Path.Combine(folder, $".{Program}.INFO.{Environment.ProcessId}.tmp");
        try
        {
            File.Delete(temporary);
            File.CreateSymbolicLink(temporary, target);
            File.Move(temporary, link, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            // glog ignores a failed symlink too: the log itself is written.
            File.Delete(temporary);
        }
    }

    // glog: the host's full node name (Environment.MachineName stops at the first dot), and $USER before the password
    // database, "invalid-user" when neither is known.
    private static string HostName()
    {
        string host;
        try
        {
            host = System.Net.Dns.GetHostName();
        }
        catch (System.Net.Sockets.SocketException)
        {
            host = "";
        }
        return string.IsNullOrEmpty(host) ? "(unknown)" : host;
    }

    private static string UserName()
    {
        string? user = Environment.GetEnvironmentVariable("USER");
        if (string.IsNullOrEmpty(user))
        {
            user = Environment.UserName;
        }
        return string.IsNullOrEmpty(user) ? "invalid-user" : user;
    }
}
