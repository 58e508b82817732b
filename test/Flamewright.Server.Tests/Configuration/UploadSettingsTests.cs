using Flamewright.Server.Configuration;

namespace Flamewright.Server.Tests.Configuration;

/// <summary>The limits on agent streams: a value that cannot work stops the server before it starts, naming the setting.</summary>
public sealed class UploadSettingsTests
{
    private const string ManagedHeapTooSmall = "ManagedHeapLimitMegabytes must be 0 (the runtime's own limit) or hold MaxUploadMemoryMegabytes, "
        + "AnalysisCacheMegabytes, AnalysisResultCacheMegabytes and 128 more (1664 or more)";

    [Theory(Timeout = Spec.Timeout)]
    [InlineData(nameof(ServerOptions.UploadIdleTimeoutSeconds), "0", "UploadIdleTimeoutSeconds must be 1 or more")]
    [InlineData(nameof(ServerOptions.MaxConcurrentUploads), "0", "MaxConcurrentUploads must be 1 or more")]
    [InlineData(nameof(ServerOptions.ErrorMessageWaitSeconds), "0", "ErrorMessageWaitSeconds must be 1 or more")]
    [InlineData(nameof(ServerOptions.MaxConcurrentAnalyses), "0", "MaxConcurrentAnalyses must be 1 or more")]
    [InlineData(nameof(ServerOptions.MaxAnalysisElements), "0", "MaxAnalysisElements must be 1 or more")]
    [InlineData(nameof(ServerOptions.AnalysisQueueSeconds), "-1", "AnalysisQueueSeconds must be 0 or more")]
    [InlineData(nameof(ServerOptions.MaxConcurrentParses), "0", "MaxConcurrentParses must be 1 or more")]
    [InlineData(nameof(ServerOptions.BackgroundNiceness), "20", "BackgroundNiceness must be between 0 and 19")]
    [InlineData(nameof(ServerOptions.DigestOnReceiveStacks), "-1", "DigestOnReceiveStacks must be 0 or more")]
    [InlineData(nameof(ServerOptions.BackgroundNiceness), "-1", "BackgroundNiceness must be between 0 and 19")]
    [InlineData(nameof(ServerOptions.NativeHeapArenas), "-1", "NativeHeapArenas must be 0 or more")]
    [InlineData(nameof(ServerOptions.NativeHeapMapThresholdKilobytes), "-1", "NativeHeapMapThresholdKilobytes must be between 0 and 32768 (32 MiB, the most glibc raises its own to)")]
    [InlineData(nameof(ServerOptions.NativeHeapMapThresholdKilobytes), "32769", "NativeHeapMapThresholdKilobytes must be between 0 and 32768 (32 MiB, the most glibc raises its own to)")]
    [InlineData(nameof(ServerOptions.ManagedHeapLimitMegabytes), "1663", ManagedHeapTooSmall)]
    [InlineData(nameof(ServerOptions.ManagedHeapLimitMegabytes), "-1", ManagedHeapTooSmall)]
    [InlineData(nameof(ServerOptions.UploadQueueSeconds), "-1", "UploadQueueSeconds must be 0 or more")]
    [InlineData(nameof(ServerOptions.MaxUploadMemoryMegabytes), "29", "MaxUploadMemoryMegabytes must hold one upload of MaxUploadBytes (30 MiB or more)")]
    [InlineData(nameof(ServerOptions.MaxErrorMessageLength), "-1", "MaxErrorMessageLength must be 1 or more")]
    [InlineData(nameof(ServerOptions.FirstLookWidthPixels), "0", "FirstLookWidthPixels must be 1 or more")]
    [InlineData(nameof(ServerOptions.FirstLookWidthPixels), "16385", "FirstLookWidthPixels must be MaxViewWidthPixels or less: no view is wider")]
    [InlineData(nameof(ServerOptions.MaxAgentMessageBytes), "1048576", "MaxAgentMessageBytes must be 1049600 or more: the Go agent's 1 MiB chunks must fit")]
    public Task A_stream_limit_that_cannot_work_is_refused_with_one_line_naming_it(string setting, string value, string problem) => Spec.Run(() =>
    {
        var flags = new Dictionary<string, (string, string)> { [setting] = (value, "test") };

        SettingsException refused = Assert.Throws<SettingsException>(() => ServerSettings.Load(flags, null, new System.Collections.Hashtable()));

        Assert.Equal(problem, refused.Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_heap_limit_is_taken_once_it_holds_the_memory_settings_as_they_are_set() => Spec.Run(() =>
    {
        var flags = new Dictionary<string, (string, string)>
        {
            [nameof(ServerOptions.ManagedHeapLimitMegabytes)] = ("900", "test"),
            [nameof(ServerOptions.AnalysisCacheMegabytes)] = ("128", "test"),
            [nameof(ServerOptions.AnalysisResultCacheMegabytes)] = ("132", "test"),
        };

        Assert.Equal(900, ServerSettings.Load(flags, null, new System.Collections.Hashtable()).Options.ManagedHeapLimitMegabytes);
        flags[nameof(ServerOptions.AnalysisResultCacheMegabytes)] = ("133", "test");
        Assert.EndsWith("(901 or more)", Assert.Throws<SettingsException>(() => ServerSettings.Load(flags, null, new System.Collections.Hashtable())).Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_smallest_message_limit_still_takes_a_Go_agents_1_MiB_chunk() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            [nameof(ServerOptions.MaxAgentMessageBytes)] = ServerOptions.MinAgentMessageBytes.ToString(),
        });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();

        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Padded("cpu", atLeast: 2 * GoLikeAgent.ChunkSize)));

        Assert.Single(await graphql.UploadsAsync(taskId));
    });
}
