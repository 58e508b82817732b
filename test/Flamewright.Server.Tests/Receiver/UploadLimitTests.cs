using System.Text.Json.Nodes;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Configuration;
using Grpc.Core;

namespace Flamewright.Server.Tests.Receiver;

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
    public Task An_upload_beyond_MaxConcurrentUploads_with_no_time_to_wait_is_refused_with_ResourceExhausted_and_its_instance_told_why() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            [nameof(ServerOptions.MaxConcurrentUploads)] = "2",
            [nameof(ServerOptions.UploadQueueSeconds)] = "0",
        });
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
                (StatusCode.ResourceExhausted, Busy(2, 512, 0)),
                (refused.StatusCode, refused.Status.Detail));

            foreach (var call in new[] { firstCall, secondCall })
            {
                await call.RequestStream.WriteAsync(new PprofData { Content = Google.Protobuf.ByteString.CopyFrom(profile) });
                await GoLikeAgent.EndUploadAsync(call);
            }
        }

        JsonNode progress = await graphql.ProgressAsync(taskId);
        Assert.Equal(
            ("FAILED", "the upload failed: " + Busy(2, 512, 0)),
            ((string)progress["instances"]![2]!["state"]!, (string?)progress["instances"]![2]!["reason"]));
        Assert.Equal(2, (await graphql.UploadsAsync(taskId)).Count);

        // The slots are given back: the refused instance's next upload is taken.
        await server.AllUploadsReleasedAsync();
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await third.UploadAsync(taskId, profile));
        Assert.Equal(3, (await graphql.UploadsAsync(taskId)).Count);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_upload_beyond_MaxConcurrentUploads_waits_in_line_and_is_stored_once_a_slot_comes_free() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.MaxConcurrentUploads)] = "1" });
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", first, second);
        byte[] profile = TestData.Bytes("cpu");

        (var firstCall, _) = await first.BeginUploadAsync(first.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile.Length));
        using (firstCall)
        {
            Task<PprofProfilingStatus> waiting = second.UploadAsync(taskId, profile);
            await Eventually.HoldsAsync(() => server.UploadLoad is { Receiving: 1, Waiting: 1 }, "the second upload waits for the one slot");
            Assert.False(waiting.IsCompleted);

            await firstCall.RequestStream.WriteAsync(new PprofData { Content = Google.Protobuf.ByteString.CopyFrom(profile) });
            await GoLikeAgent.EndUploadAsync(firstCall);
            Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await waiting);
        }

        Assert.Equal(2, (await graphql.UploadsAsync(taskId)).Count);
        Assert.Equal(["FINISHED", "FINISHED"], (await graphql.ProgressAsync(taskId))["instances"]!.AsArray().Select(i => (string)i!["state"]!));
        await server.AllUploadsReleasedAsync();
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Uploads_that_together_declare_more_than_MaxUploadMemoryMegabytes_wait_and_one_that_waits_past_UploadQueueSeconds_is_refused() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            [nameof(ServerOptions.MaxUploadBytes)] = (1024 * 1024).ToString(),
            [nameof(ServerOptions.MaxUploadMemoryMegabytes)] = "1",
            [nameof(ServerOptions.UploadQueueSeconds)] = "1",
        });
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", first, second);
        byte[] profile = TestData.Bytes("cpu");

        // The first declares 600 KiB of the 1 MiB: the second's 600 KiB does not fit beside it.
        (var firstCall, _) = await first.BeginUploadAsync(first.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, 600 * 1024));
        using (firstCall)
        {
            Assert.Equal(600 * 1024, server.UploadLoad.ReservedBytes);
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => second.UploadAsync(taskId, profile, 600 * 1024));
            Assert.Equal((StatusCode.ResourceExhausted, Busy(64, 1, 1)), (refused.StatusCode, refused.Status.Detail));
        }

        await server.AllUploadsReleasedAsync();
        Assert.Equal(0, server.UploadLoad.ReservedBytes);
        Assert.Equal("the upload failed: " + Busy(64, 1, 1), (string?)(await graphql.ProgressAsync(taskId))["instances"]![1]!["reason"]);
        Assert.Empty(await graphql.UploadsAsync(taskId));
    });

    private static string Busy(int uploads, int megabytes, int seconds) =>
        $"the server was receiving {uploads} uploads or {megabytes} MiB already (MaxConcurrentUploads, MaxUploadMemoryMegabytes) for {seconds} s; nothing was stored";

    /// <summary>Bytes that are not a profile: the limit must refuse them before anything tries to parse them.</summary>
    private static byte[] Filler(int length)
    {
        byte[] bytes = new byte[length];
        new Random(42).NextBytes(bytes);
        return bytes;
    }
}
