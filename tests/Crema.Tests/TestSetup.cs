using System.Runtime.CompilerServices;

namespace Crema.Tests;

internal static class TestSetup
{
    // The tests build nets with type: "Python" layers, as the CLI does; the core alone refuses them (see ScriptingHookTests).
    [ModuleInitializer]
    internal static void EnableCSharpLayers() => Crema.Scripting.CSharpLayers.Enable();
}
