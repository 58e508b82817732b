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

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task The_server_limits_its_managed_heap_to_the_setting_and_says_so() => Spec.Run(async () =>
    {
        using ServerProcess server = await ServerProcess.StartWithEnvironmentAsync(new Dictionary<string, string>
        {
            ["FLAMEWRIGHT_SERVER__MANAGEDHEAPLIMITMEGABYTES"] = "900",
            // The limit must hold the memory settings (512 MiB of uploads, the two caches) and 128 MiB more.
            ["FLAMEWRIGHT_SERVER__ANALYSISCACHEMEGABYTES"] = "128",
            ["FLAMEWRIGHT_SERVER__ANALYSISRESULTCACHEMEGABYTES"] = "128",
        });

        Assert.Contains("Managed heap limited to 900 MiB (ManagedHeapLimitMegabytes)", server.Output);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_lower_limit_the_runtime_already_has_is_kept_and_named() => Spec.Run(async () =>
    {
        // As a container's memory limit would set it: 768 MiB, under the setting's default.
        using ServerProcess server = await ServerProcess.StartWithEnvironmentAsync(new Dictionary<string, string>
        {
            ["DOTNET_GCHeapHardLimit"] = "0x30000000",
        });

        Assert.Contains("Managed heap left to the runtime, which lets it use 768 MiB", server.Output);
        Assert.DoesNotContain("Managed heap limited to 1664 MiB", server.Output);
    });
}
