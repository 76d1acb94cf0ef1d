using System.Diagnostics;

namespace Crema.Tests.Data;

/// <summary>Runs Debian's python3-plyvel (real libleveldb) to check what Crema's LevelDB writer produces.</summary>
internal static class Plyvel
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<bool> s_available = new(() => Run("import plyvel", out _) == 0);

    public static bool Available => s_available.Value;

    /// <summary>Lists a database as plyvel's iterator sees it: "key\tsha256(value)" lines.</summary>
    public static string[] Dump(string dbPath)
    {
        string script = "import hashlib, sys, plyvel\n"
            + "db = plyvel.DB(sys.argv[1], create_if_missing=False)\n"
            + "for k, v in db.iterator():\n"
            + "    print(k.decode() + '\\t' + hashlib.sha256(v).hexdigest())\n"
            + "db.close()\n";
        int code = Run(script, out string output, dbPath);
        Assert.True(code == 0, "plyvel failed: " + output);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static int Run(string script, out string output, params string[] args)
    {
        if (!File.Exists(Python))
        {
            output = Python + " not found";
            return -1;
        }
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        output += stderr.Result;
        return process.ExitCode;
    }
}

/// <summary>A fact that is skipped, saying why, when /usr/bin/python3 lacks plyvel (apt-get install python3-plyvel).</summary>
public sealed class PlyvelFactAttribute : FactAttribute
{
    public PlyvelFactAttribute()
    {
        if (!Plyvel.Available)
        {
            Skip = "needs real libleveldb through Debian's python3-plyvel (apt-get install -y python3-plyvel) for /usr/bin/python3";
        }
    }
}
