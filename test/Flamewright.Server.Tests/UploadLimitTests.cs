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

    [Fact(Timeout = Spec.Timeout)]
    public Task An_upload_beyond_MaxConcurrentUploads_is_refused_with_ResourceExhausted_and_its_instance_told_why() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.MaxConcurrentUploads)] = "2" });
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GoLikeAgent third = server.Agent("go-service", "provider3");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", first, second, third);
        byte[] profile = TestData.Bytes("cpu");

        (var firstCall, _) = await first.BeginUploadAsync(first.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile.Length));
        (var secondCall, _) = await second.BeginUploadAsync(second.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile.Length));
        using (firstCall)
        using (secondCall)
        {
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => third.UploadAsync(taskId, profile));
            Assert.Equal(
                (StatusCode.ResourceExhausted, "the server is receiving 2 uploads already (MaxConcurrentUploads); nothing was stored"),
                (refused.StatusCode, refused.Status.Detail));

            foreach (var call in new[] { firstCall, secondCall })
            {
                await call.RequestStream.WriteAsync(new PprofData { Content = Google.Protobuf.ByteString.CopyFrom(profile) });
                await GoLikeAgent.EndUploadAsync(call);
            }
        }

        JsonNode progress = await graphql.ProgressAsync(taskId);
        Assert.Equal(
            ("FAILED", "the upload failed: the server is receiving 2 uploads already (MaxConcurrentUploads); nothing was stored"),
            ((string)progress["instances"]![2]!["state"]!, (string?)progress["instances"]![2]!["reason"]));
        Assert.Equal(2, (await graphql.UploadsAsync(taskId)).Count);

        // The slots are given back: the refused instance's next upload is taken.
        await server.AllUploadsReleasedAsync();
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await third.UploadAsync(taskId, profile));
        Assert.Equal(3, (await graphql.UploadsAsync(taskId)).Count);
    });

    /// <summary>Bytes that are not a profile: the limit must refuse them before anything tries to parse them.</summary>
    private static byte[] Filler(int length)
    {
        byte[] bytes = new byte[length];
        new Random(42).NextBytes(bytes);
        return bytes;
    }
}
