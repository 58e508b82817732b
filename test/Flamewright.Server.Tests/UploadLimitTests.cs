using System.Text.Json.Nodes;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Configuration;
using Flamewright.Server.Tests.Support;
using Grpc.Core;

namespace Flamewright.Server.Tests;

/// <summary>The upload size limit (SW_RECEIVER_PPROF_MAX_SIZE), checked on what is declared and on what arrives.</summary>
public sealed class UploadLimitTests
{
    private const int Limit = 64 * 1024;

    private static readonly Dictionary<string, string> s_smallLimit = new() { [nameof(ServerOptions.MaxUploadBytes)] = Limit.ToString() };

    [Fact(Timeout = Spec.Timeout)]
    public Task A_profile_declared_larger_than_the_limit_is_terminated_by_oversize_logged_and_not_stored() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(environment: new Dictionary<string, string> { ["SW_RECEIVER_PPROF_MAX_SIZE"] = Limit.ToString() });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        Assert.Equal(PprofProfilingStatus.PprofTerminatedByOversize, await agent.UploadAsync(taskId, Filler(Limit + 1)));

        JsonNode log = await graphql.LastLogAsync(taskId);
        Assert.Equal("PPROF_UPLOAD_FILE_TOO_LARGE_ERROR", (string)log["operationType"]!);
        Assert.Equal($"the agent declared {Limit + 1} bytes, more than the limit of {Limit} bytes", (string?)log["message"]);
        Assert.Empty(await graphql.UploadsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_agent_that_finds_its_profile_too_large_itself_gets_a_too_large_log() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(s_smallLimit);
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        (var call, PprofProfilingStatus answer) = await agent.BeginUploadAsync(agent.MetadataMessage(taskId, PprofProfilingStatus.PprofTerminatedByOversize, 0));
        using (call)
        {
            Assert.Equal(PprofProfilingStatus.PprofTerminatedByOversize, answer);
            await GoLikeAgent.EndUploadAsync(call);
        }

        Assert.Equal(["NOTIFIED", "PPROF_UPLOAD_FILE_TOO_LARGE_ERROR"], await graphql.OperationsAsync(taskId));
        Assert.Empty(await graphql.UploadsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_profile_of_exactly_the_limit_is_received() => Spec.Run(async () =>
    {
        byte[] profile = TestData.Bytes("cpu");
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.MaxUploadBytes)] = profile.Length.ToString() });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();

        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));

        Assert.Single(await graphql.UploadsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Bytes_beyond_the_limit_abort_the_stream_with_ResourceExhausted_even_when_less_was_declared() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(s_smallLimit);
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        RpcException aborted = await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(taskId, Filler(Limit + 1), declaredSize: 1000));

        Assert.Equal(StatusCode.ResourceExhausted, aborted.StatusCode);
        JsonNode log = await graphql.LastLogAsync(taskId);
        Assert.Equal("PPROF_UPLOAD_FILE_TOO_LARGE_ERROR", (string)log["operationType"]!);
        Assert.Equal($"the agent sent more than the limit of {Limit} bytes", (string?)log["message"]);
        Assert.Empty(await graphql.UploadsAsync(taskId));
        Assert.Equal([agent.InstanceId], (await graphql.ProgressAsync(taskId))["errorInstanceIds"]!.AsArray().Select(i => (string)i!));
    });

    /// <summary>Bytes that are not a profile: the limit must refuse them before anything tries to parse them.</summary>
    private static byte[] Filler(int length)
    {
        byte[] bytes = new byte[length];
        new Random(42).NextBytes(bytes);
        return bytes;
    }
}
