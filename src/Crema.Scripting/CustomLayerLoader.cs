using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Crema.Layers;
using Crema.Proto;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Text;

namespace Crema.Scripting;

/// <summary>
/// Resolves <c>type: "Python"</c> layers to C# classes: <c>python_param.module</c> names a <c>.cs</c> file (compiled at run time
/// with Roslyn, relative to the prototxt's folder), a <c>.dll</c>, or a loaded assembly / namespace; <c>python_param.layer</c>
/// names a class deriving from <see cref="Layer"/> with a constructor taking a <see cref="LayerParameter"/>.
/// </summary>
public static class CustomLayerLoader
{
    // Keyed by full path + SHA-256 of the source, so an edited file recompiles and a net with several layers from one file compiles once.
    private static readonly ConcurrentDictionary<string, Lazy<CompileResult>> Compiled = new(StringComparer.Ordinal);

    private static readonly Lazy<MetadataReference[]> References = new(LoadReferences);

    // The SDK's default implicit usings, so a file compiles the same here and in a project with ImplicitUsings enabled.
    private const string ImplicitUsings =
        "global using System;\nglobal using System.Collections.Generic;\nglobal using System.IO;\nglobal using System.Linq;\n" +
        "global using System.Net.Http;\nglobal using System.Threading;\nglobal using System.Threading.Tasks;\n";

    private sealed record CompileResult(Assembly? Assembly, IReadOnlyList<string> Errors);

    /// <summary>Creates the layer that <paramref name="param"/>'s python_param names; relative module paths resolve against <paramref name="baseDirectory"/>.</summary>
    public static Layer Create(LayerParameter param, string? baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(param);
        var type = ResolveType(param, baseDirectory);
        var ctor = type.GetConstructor([typeof(LayerParameter)])
            ?? throw Fail(param, $"class '{type.FullName}' needs a public constructor taking a LayerParameter, e.g. " +
                $"'public {type.Name}(LayerParameter param) : base(param) {{ }}'");
        try
        {
            return (Layer)ctor.Invoke([param]);
        }
        catch (TargetInvocationException e) when (e.InnerException is CremaException)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            throw Fail(param, $"constructor of '{type.FullName}' threw {e.InnerException.GetType().Name}: {e.InnerException.Message}", e.InnerException);
        }
    }

    /// <summary>The class <paramref name="param"/>'s python_param names, compiling or loading its module as needed.</summary>
    public static Type ResolveType(LayerParameter param, string? baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(param);
        var p = param.PythonParam;
        if (p == null || string.IsNullOrWhiteSpace(p.Module) || string.IsNullOrWhiteSpace(p.Layer))
        {
            throw Fail(param, "needs python_param { module: \"file.cs\" (or an assembly / namespace) layer: \"ClassName\" }");
        }
        string module = p.Module.Trim();
        string className = p.Layer.Trim();

        IReadOnlyList<Type> candidates;
        if (module.EndsWith(".cs", StringComparison.OrdinalIgnoreCase))
        {
            candidates = FindInAssemblies([CompileFile(param, ResolvePath(param, module, baseDirectory))], className, moduleFilter: null);
        }
        else if (module.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            string path = ResolvePath(param, module, baseDirectory);
            Assembly assembly;
            try
            {
                assembly = Assembly.LoadFrom(path);
            }
            catch (Exception e) when (e is BadImageFormatException or FileLoadException)
            {
                throw Fail(param, $"cannot load assembly '{path}': {e.Message}", e);
            }
            candidates = FindInAssemblies([assembly], className, moduleFilter: null);
        }
        else
        {
            candidates = FindInAssemblies(AppDomain.CurrentDomain.GetAssemblies(), className, module);
            if (candidates.Count == 0 && TryLoadAssembly(module) is { } loaded)
            {
                candidates = FindInAssemblies([loaded], className, moduleFilter: null);
            }
            // A Caffe prototxt's `module: "pyloss"` finds pyloss.cs next to the prototxt.
            if (candidates.Count == 0 && baseDirectory != null && File.Exists(Path.Combine(baseDirectory, module + ".cs")))
            {
                candidates = FindInAssemblies([CompileFile(param, Path.GetFullPath(Path.Combine(baseDirectory, module + ".cs")))], className, null);
            }
        }

        if (candidates.Count == 0)
        {
            throw Fail(param, $"class '{className}' not found in module '{module}'" + DescribeAlternatives(module, baseDirectory));
        }
        if (candidates.Count > 1)
        {
            throw Fail(param, $"class '{className}' is ambiguous in module '{module}': {string.Join(", ", candidates.Select(t => t.FullName))}; give the full name");
        }
        var type = candidates[0];
        if (!typeof(Layer).IsAssignableFrom(type))
        {
            throw Fail(param, $"class '{type.FullName}' in module '{module}' does not derive from Crema.Layers.Layer");
        }
        if (type.IsAbstract)
        {
            throw Fail(param, $"class '{type.FullName}' in module '{module}' is abstract");
        }
        if (type.ContainsGenericParameters)
        {
            throw Fail(param, $"class '{type.FullName}' in module '{module}' is an open generic type");
        }
        return type;
    }

    /// <summary>
    /// Compiles the C# file at <paramref name="path"/> (cached by path and content) into an in-memory assembly referencing Crema and the framework.
    /// Throws a <see cref="CremaException"/> listing each error as <c>file.cs(line,col): error CSxxxx: message</c>.
    /// </summary>
    public static Assembly CompileFile(string path)
    {
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new CremaException($"C# layer source '{fullPath}' not found");
        }
        return CompileCached(fullPath, File.ReadAllBytes(fullPath), context: null);
    }

    private static Assembly CompileFile(LayerParameter param, string fullPath)
    {
        if (!File.Exists(fullPath))
        {
            throw Fail(param, $"python_param module '{param.PythonParam.Module}' not found (looked for {fullPath})");
        }
        return CompileCached(fullPath, File.ReadAllBytes(fullPath), param);
    }

    private static Assembly CompileCached(string fullPath, byte[] source, LayerParameter? context)
    {
        string hash = Convert.ToHexString(SHA256.HashData(source));
        bool optimize = Optimize;
        var entry = Compiled.GetOrAdd(fullPath + "|" + hash + (optimize ? "|O" : ""), _ => new Lazy<CompileResult>(() => Compile(fullPath, source, hash, optimize)));
        var result = entry.Value;
        if (result.Assembly != null)
        {
            return result.Assembly;
        }
        string what = $"cannot compile '{fullPath}' ({result.Errors.Count} error(s)):\n  " + string.Join("\n  ", result.Errors);
        throw context != null ? Fail(context, what) : new CremaException(what);
    }

    /// <summary>
    /// CREMA_SCRIPT_OPTIMIZE=1 compiles user layers optimised. The default is Debug: unoptimised IL, which the JIT also
    /// leaves unoptimised, so a fault's reported file.cs:LINE is exact (optimised code can report a neighbouring line).
    /// </summary>
    internal static bool Optimize => Environment.GetEnvironmentVariable("CREMA_SCRIPT_OPTIMIZE") == "1";

    private static CompileResult Compile(string fullPath, byte[] source, string hash, bool optimize)
    {
        Log.Info($"Compiling C# layer {Path.GetFileName(fullPath)}…");
        var text = SourceText.From(source, source.Length, Encoding.UTF8, canBeEmbedded: true);
        var parseOptions = new CSharpParseOptions(LanguageVersion.Latest);
        var tree = CSharpSyntaxTree.ParseText(text, parseOptions, path: fullPath);
        var usings = CSharpSyntaxTree.ParseText(SourceText.From(ImplicitUsings, Encoding.UTF8), parseOptions, path: "CremaImplicitUsings.g.cs");
        string name = "Crema.Custom." + Path.GetFileNameWithoutExtension(fullPath) + "." + hash[..12];
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
            optimizationLevel: optimize ? OptimizationLevel.Release : OptimizationLevel.Debug,
            nullableContextOptions: NullableContextOptions.Enable,
            allowUnsafe: true,
            concurrentBuild: false);
        var compilation = CSharpCompilation.Create(name, [usings, tree], References.Value, options);

        using var pe = new MemoryStream();
        using var pdb = new MemoryStream();
        // A portable PDB with the source embedded gives stack traces with the .cs file's line numbers.
        var emitOptions = new EmitOptions(debugInformationFormat: DebugInformationFormat.PortablePdb);
        var emitted = compilation.Emit(pe, pdb, options: emitOptions, embeddedTexts: [EmbeddedText.FromSource(fullPath, text)]);
        if (!emitted.Success)
        {
            var errors = emitted.Diagnostics
                .Where(d => d.Severity == DiagnosticSeverity.Error)
                .OrderBy(d => d.Location.SourceSpan.Start)
                .Select(FormatDiagnostic)
                .ToArray();
            return new CompileResult(null, errors);
        }
        return new CompileResult(Assembly.Load(pe.ToArray(), pdb.ToArray()), []);
    }

    private static string FormatDiagnostic(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        string where = d.Location.IsInSource
            ? $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): "
            : "";
        string severity = d.Severity == DiagnosticSeverity.Error ? "error" : "warning";
        return $"{where}{severity} {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    private static MetadataReference[] LoadReferences()
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa)
        {
            foreach (string path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                paths.Add(path);
            }
        }
        // Crema and what its public API exposes (LayerParameter is a protobuf message), in case the host's list lacks them.
        foreach (var assembly in new[] { typeof(Layer).Assembly, typeof(Google.Protobuf.IMessage).Assembly, typeof(System.Numerics.Tensors.TensorPrimitives).Assembly })
        {
            if (!string.IsNullOrEmpty(assembly.Location))
            {
                paths.Add(assembly.Location);
            }
        }
        // One reference per simple name: the host's list can hold the same assembly twice (e.g. a package and the framework copy).
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string path in paths)
        {
            if (File.Exists(path) && path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                byName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
            }
        }
        return byName.Values.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    }

    private static string ResolvePath(LayerParameter param, string module, string? baseDirectory)
    {
        string path = Path.IsPathRooted(module) ? module : Path.Combine(baseDirectory ?? Directory.GetCurrentDirectory(), module);
        path = Path.GetFullPath(path);
        if (!File.Exists(path))
        {
            throw Fail(param, $"python_param module '{module}' not found (looked for {path})");
        }
        return path;
    }

    // Public and nested classes named `className` (simple or full name); with a module filter, only those whose assembly name
    // or namespace is the module (or inside it).
    private static List<Type> FindInAssemblies(IEnumerable<Assembly> assemblies, string className, string? moduleFilter)
    {
        var found = new List<Type>();
        foreach (var assembly in assemblies)
        {
            if (assembly.IsDynamic)
            {
                continue;
            }
            bool assemblyMatches = moduleFilter == null || string.Equals(assembly.GetName().Name, moduleFilter, StringComparison.Ordinal);
            foreach (var type in LoadableTypes(assembly))
            {
                if (type.Name != className && type.FullName != className && type.FullName?.Replace('+', '.') != className)
                {
                    continue;
                }
                bool namespaceMatches = moduleFilter != null && type.Namespace != null &&
                    (type.Namespace == moduleFilter || type.Namespace.StartsWith(moduleFilter + ".", StringComparison.Ordinal));
                if (assemblyMatches || namespaceMatches)
                {
                    found.Add(type);
                }
            }
        }
        return found.Distinct().ToList();
    }

    private static Type[] LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.Where(t => t != null).ToArray()!;
        }
    }

    private static Assembly? TryLoadAssembly(string name)
    {
        try
        {
            return Assembly.Load(new AssemblyName(name));
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException)
        {
            return null;
        }
    }

    // What the user could have meant: the Layer classes the module does define.
    private static string DescribeAlternatives(string module, string? baseDirectory)
    {
        IEnumerable<Assembly> assemblies;
        if (module.EndsWith(".cs", StringComparison.OrdinalIgnoreCase) || module.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            string path = Path.GetFullPath(Path.IsPathRooted(module) ? module : Path.Combine(baseDirectory ?? Directory.GetCurrentDirectory(), module));
            assemblies = AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && IsFrom(a, path));
        }
        else
        {
            assemblies = AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.GetName().Name == module);
        }
        var layers = assemblies.SelectMany(LoadableTypes)
            .Where(t => !t.IsAbstract && typeof(Layer).IsAssignableFrom(t) && t.Assembly != typeof(Layer).Assembly)
            .Select(t => t.FullName)
            .Order(StringComparer.Ordinal)
            .ToArray();
        return layers.Length == 0 ? "" : $" (Layer classes there: {string.Join(", ", layers)})";
    }

    private static bool IsFrom(Assembly assembly, string path)
    {
        if (!string.IsNullOrEmpty(assembly.Location))
        {
            return string.Equals(Path.GetFullPath(assembly.Location), path, StringComparison.Ordinal);
        }
        return Compiled.Any(kv => kv.Key.StartsWith(path + "|", StringComparison.Ordinal) && kv.Value.IsValueCreated && kv.Value.Value.Assembly == assembly);
    }

    private static CremaException Fail(LayerParameter param, string message, Exception? inner = null)
    {
        string text = $"Layer '{param.Name}' (type {param.Type}): {message}";
        return inner == null ? new CremaException(text) : new CremaException(text, inner);
    }
}
