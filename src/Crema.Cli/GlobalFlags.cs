using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Crema.Cli;

/// <summary>
/// Flags every verb accepts, handled before parsing as glog and Caffe do: -minloglevel N (also GLOG_minloglevel) and
/// -gpu N (a warning: Crema runs on the CPU). Also help that names the program `crema`, 100 columns wide.
/// </summary>
internal static partial class GlobalFlags
{
    public const int HelpWidth = 100;

    /// <summary>The option shown in help; its value is taken out of the arguments by <see cref="Apply"/>.</summary>
    public static Option<int> MinLogLevel() => new("--minloglevel")
    {
        Description = "Log only messages at or above this level: 0 INFO, 1 WARNING, 2 ERROR (also GLOG_minloglevel).",
        Recursive = true,
    };

    /// <summary>Applies -minloglevel and warns about -gpu; returns the arguments without -minloglevel, or an error.</summary>
    public static (string[] Args, string? Error) Apply(string[] args)
    {
        var rest = new List<string>(args.Length);
        string? gpu = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string name = a.TrimStart('-').Split('=')[0];
            bool isFlag = a.StartsWith('-') && a.Length > 1;
            if (isFlag && name is "minloglevel" or "gpu")
            {
                string? value = a.Contains('=', StringComparison.Ordinal) ? a[(a.IndexOf('=', StringComparison.Ordinal) + 1)..]
                    : i + 1 < args.Length ? args[i + 1] : null;
                if (name == "gpu")
                {
                    gpu = value;
                    rest.Add(a);
                    continue;
                }
                if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int level) || level < 0 || level > 3)
                {
                    return (args, $"-minloglevel needs 0 (INFO), 1 (WARNING), 2 (ERROR) or 3 (FATAL), got '{value}'");
                }
                Log.Level = level;
                if (!a.Contains('=', StringComparison.Ordinal))
                {
                    i++;
                }
                continue;
            }
            rest.Add(a);
        }
        if (gpu != null)
        {
            // After -minloglevel, which may silence it.
            Log.Warning($"Crema runs on the CPU: -gpu {gpu} is ignored");
        }
        return ([.. rest], null);
    }

    /// <summary>Invokes the parsed command; help (--help, -h, `crema help`) comes out 100 columns wide and names the program `crema`.</summary>
    public static int Invoke(ParseResult parsed, RootCommand root)
    {
        if (parsed.Action is not HelpAction help)
        {
            return parsed.Invoke();
        }
        help.MaxWidth = HelpWidth;
        var text = new StringWriter();
        int code = parsed.Invoke(new InvocationConfiguration { Output = text });
        // System.CommandLine names the root after the executable (Crema.Cli, or testhost under tests).
        Console.Out.Write(Regex.Replace(text.ToString(), $@"(?<=^|\s){Regex.Escape(root.Name)}(?=\s|$)", "crema", RegexOptions.Multiline));
        return code;
    }

    /// <summary>`crema help [verb]`.</summary>
    public static Command HelpCommand(RootCommand root)
    {
        var verb = new Argument<string?>("verb") { Description = "The verb to describe.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("help", "Show the verbs, or one verb's flags.") { verb };
        command.SetAction(r =>
        {
            string? name = r.GetValue(verb);
            if (!string.IsNullOrEmpty(name) && !root.Subcommands.Any(c => c.Name == name))
            {
                Console.Error.WriteLine($"crema: error: unknown verb '{name}' (verbs: {string.Join(", ", root.Subcommands.Select(c => c.Name))})");
                return 1;
            }
            return Invoke(root.Parse(string.IsNullOrEmpty(name) ? ["--help"] : [name, "--help"]), root);
        });
        return command;
    }
}
