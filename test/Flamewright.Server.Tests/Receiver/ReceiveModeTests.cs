using System.Text;
using Flamewright.Server.Configuration;
using Flamewright.Server.Tests.Support;
using Grpc.Core;

namespace Flamewright.Server.Tests.Receiver;

/// <summary>
/// SW_RECEIVER_PPROF_MEMORY_PARSER_ENABLED: an upload waits in memory (true) or in a temporary file under
/// <c>&lt;DataDir&gt;/uploads.tmp</c> (false), and no temporary file outlives its upload, however it ended.
/// </summary>
public sealed class ReceiveModeTests
{
    [Theory(Timeout = Spec.Timeout)]
    [InlineData(true)]
    [InlineData(false)]
    public Task Either_mode_receives_a_profile_of_several_chunks_that_analyses_as_the_engine_does(bool memoryParser) => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.MemoryParser)] = memoryParser.ToString() });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Padded("cpu", atLeast: 2 * GoLikeAgent.ChunkSize + 1);

        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));

        Assert.Equal(profile.Length, (long)Assert.Single(await graphql.UploadsAsync(taskId))!["compressedBytes"]!);
        Assert.Equal(Engine.Total(TestData.Bytes("cpu"), "cpu"), await graphql.AnalyzedTotalAsync(taskId));
        Assert.Equal(!memoryParser, Directory.Exists(TemporaryFolder(server)));
        Assert.Empty(TemporaryFiles(server));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task In_temporary_file_mode_no_file_outlives_a_successful_a_failed_or_an_aborted_upload() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(environment: new Dictionary<string, string> { ["SW_RECEIVER_PPROF_MEMORY_PARSER_ENABLED"] = "false" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        await agent.HangUpMidUploadAsync(taskId, TestData.Bytes("cpu"), whileOpen: async () =>
        {
            await Eventually.HoldsAsync(() => TemporaryFiles(server).Length == 1, "the upload in progress waits in one temporary file");
        });
        await server.UploadAbandonedAsync();
        Assert.Empty(TemporaryFiles(server));

        await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(taskId, Encoding.UTF8.GetBytes("not a profile")));
        Assert.Empty(TemporaryFiles(server));

        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
        Assert.Empty(TemporaryFiles(server));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task In_memory_mode_no_temporary_file_is_ever_written() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(environment: new Dictionary<string, string> { ["SW_RECEIVER_PPROF_MEMORY_PARSER_ENABLED"] = "true" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(taskId, Encoding.UTF8.GetBytes("not a profile")));
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);

        Assert.False(Directory.Exists(TemporaryFolder(server)), "memory mode created the temporary folder");
    });

    private static string TemporaryFolder(TestServer server) => Path.Combine(server.DataDir, "uploads.tmp");

    private static string[] TemporaryFiles(TestServer server) =>
        Directory.Exists(TemporaryFolder(server)) ? Directory.GetFiles(TemporaryFolder(server)) : [];
}
