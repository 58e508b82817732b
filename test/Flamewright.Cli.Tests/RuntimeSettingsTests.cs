using System.IO.Compression;
using System.Text.Json.Nodes;
using Grpc.Core;

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

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_profile_that_inflates_past_the_heap_limit_even_with_the_caches_emptied_is_refused_with_one_line_and_the_server_goes_on() => Spec.Run(async () =>
    {
        // The smallest limit the memory settings allow: 30 MiB of uploads, two caches of 1 MiB and 128 MiB more.
        using ServerProcess server = await ServerProcess.StartWithEnvironmentAsync(new Dictionary<string, string>
        {
            ["FLAMEWRIGHT_SERVER__MANAGEDHEAPLIMITMEGABYTES"] = "160",
            ["FLAMEWRIGHT_SERVER__MAXUPLOADMEMORYMEGABYTES"] = "30",
            ["FLAMEWRIGHT_SERVER__ANALYSISCACHEMEGABYTES"] = "1",
            ["FLAMEWRIGHT_SERVER__ANALYSISRESULTCACHEMEGABYTES"] = "1",
        });
        using var graphql = new GraphQLClient(server.HttpAddress);
        using var large = new GoLikeAgent(server.GrpcAddress, "go-service", "provider1");
        using var ordinary = new GoLikeAgent(server.GrpcAddress, "go-service", "provider2");
        string taskId = await graphql.TaskTakenByAsync("CPU", large, ordinary);
        byte[] bomb = InflatingTo(200 * 1024 * 1024);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => large.UploadAsync(taskId, bomb));

        const string Reason = "the server had no memory left to parse the profile under its heap's limit (ManagedHeapLimitMegabytes); nothing was stored";
        Assert.Equal((StatusCode.ResourceExhausted, Reason), (refused.StatusCode, refused.Status.Detail));
        JsonNode log = await graphql.LastLogAsync(taskId);
        Assert.Equal(("EXECUTION_TASK_ERROR", $"the upload failed: {Reason}"), ((string)log["operationType"]!, (string?)log["message"]));
        Assert.Empty(await graphql.UploadsAsync(taskId));
        Assert.Contains("found no memory left under the heap's limit (ManagedHeapLimitMegabytes); emptying the analysis caches and trying once more", server.Output);
        // Nothing else changed: the other instance's upload is stored and analysed.
        await ordinary.UploadAcceptedAsync(taskId, TestData.Bytes("cpu"));
        Assert.Equal(Engine.Total(TestData.Bytes("cpu"), "cpu"), await graphql.AnalyzedTotalAsync(taskId));
    });

    /// <summary>
    /// A real profile followed by <paramref name="zeros"/> zero bytes in a field the decoder skips, gzip-compressed: a
    /// few hundred KiB to send, <paramref name="zeros"/> bytes and more once inflated.
    /// </summary>
    private static byte[] InflatingTo(int zeros)
    {
        using var raw = new MemoryStream();
        using (var gunzip = new GZipStream(new MemoryStream(TestData.Bytes("cpu")), CompressionMode.Decompress))
        {
            gunzip.CopyTo(raw);
        }

        using var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(raw.ToArray());
            // Field 1000, length-delimited, then its length: varints.
            foreach (long value in new long[] { (1000 << 3) | 2, zeros })
            {
                for (long v = value; ; v >>= 7)
                {
                    gzip.WriteByte((byte)(v >= 0x80 ? (v & 0x7F) | 0x80 : v));
                    if (v < 0x80)
                    {
                        break;
                    }
                }
            }

            byte[] block = new byte[1 << 20];
            for (int left = zeros; left > 0; left -= block.Length)
            {
                gzip.Write(block, 0, Math.Min(block.Length, left));
            }
        }

        return packed.ToArray();
    }
}
