using System.Text.Json.Nodes;

namespace Flamewright.Cli.Tests;

/// <summary>The garbage collector the <c>flamewright</c> executable runs with (docs/deployment.md, "Memory per node").</summary>
public sealed class RuntimeSettingsTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task The_executable_runs_the_workstation_collector_that_compacts_its_large_objects() => Spec.Run(() =>
    {
        JsonNode properties = JsonNode.Parse(File.ReadAllText(FlamewrightProcess.RuntimeConfigPath))!["runtimeOptions"]!["configProperties"]!;

        Assert.False((bool)properties["System.GC.Server"]!);
        Assert.False((bool)properties["System.GC.Concurrent"]!);
        // Measured under the load benchmark: without it a loaded server's resident memory was mostly gaps between large arrays.
        Assert.Equal(7, (int)properties["System.GC.ConserveMemory"]!);
    });
}
