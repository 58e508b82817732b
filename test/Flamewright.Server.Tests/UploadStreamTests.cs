using Flamewright.Protocol.Pprof;
using Flamewright.Server.Configuration;
using Flamewright.Server.Tests.Support;
using Google.Protobuf;
using Grpc.Core;

namespace Flamewright.Server.Tests;

/// <summary>
/// collect streams that break the protocol or end too early: each gets a clear status or is aborted, nothing is
/// stored, and the server goes on serving the next upload.
/// </summary>
public sealed class UploadStreamTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task More_bytes_than_declared_abort_the_stream_and_store_nothing() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        byte[] profile = TestData.Bytes("cpu");

        RpcException aborted = await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(taskId, profile, declaredSize: profile.Length - 1));

        Assert.Equal(StatusCode.InvalidArgument, aborted.StatusCode);
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Fewer_bytes_than_declared_are_refused_and_store_nothing() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        byte[] profile = TestData.Bytes("cpu");

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(taskId, profile, declaredSize: profile.Length + 1));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_agent_that_hangs_up_mid_stream_stores_nothing_and_the_server_keeps_serving() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        await agent.HangUpMidUploadAsync(taskId, TestData.Bytes("cpu"));
        await server.UploadAbandonedAsync();

        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_broken_off_upload_leaves_the_instance_failed_with_the_reason_instead_of_notified_forever() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent hangsUp = server.Agent("go-service", "provider1");
        using GoLikeAgent overshoots = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", hangsUp, overshoots);
        byte[] profile = TestData.Bytes("cpu");

        await hangsUp.HangUpMidUploadAsync(taskId, profile);
        await Assert.ThrowsAsync<RpcException>(() => overshoots.UploadAsync(taskId, profile, declaredSize: profile.Length - 1));

        string? hangUpReason = null;
        string? overshootReason = null;
        for (DateTime until = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < until && (hangUpReason is null || overshootReason is null); await Task.Delay(50))
        {
            var instances = (await graphql.ProgressAsync(taskId))["instances"]!.AsArray();
            hangUpReason = (string?)instances.Single(i => (string?)i!["instanceName"] == "provider1")!["reason"];
            overshootReason = (string?)instances.Single(i => (string?)i!["instanceName"] == "provider2")!["reason"];
        }

        Assert.Equal("the upload failed: the upload stream ended abruptly; nothing was stored", hangUpReason);
        Assert.Equal($"the upload failed: the agent sent more than the {profile.Length - 1} bytes it declared; nothing was stored", overshootReason);
        Assert.Empty(await graphql.UploadsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Content_before_metadata_is_an_InvalidArgument() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        using (var call = agent.OpenCollect())
        {
            await call.RequestStream.WriteAsync(new PprofData { Content = ByteString.CopyFrom(TestData.Bytes("cpu")) });
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        }

        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Metadata_sent_twice_is_an_InvalidArgument() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        byte[] profile = TestData.Bytes("cpu");

        PprofData metadata = agent.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile.Length);
        (var call, PprofProfilingStatus answer) = await agent.BeginUploadAsync(metadata);
        using (call)
        {
            Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, answer);
            await call.RequestStream.WriteAsync(metadata);
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        }

        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_unknown_task_is_NotFound() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string unknown = $"{server.Clock.NowMilliseconds}_{agent.ServiceId}";

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(unknown, TestData.Bytes("cpu")));

        Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        Assert.Contains(unknown, refused.Status.Detail);
        Assert.Empty(await graphql.UploadsAsync(unknown));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_upload_for_another_services_task_is_PermissionDenied() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent owner = server.Agent("go-service", "provider1");
        using GoLikeAgent stranger = server.Agent("other-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", owner);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => stranger.UploadAsync(taskId, TestData.Bytes("cpu")));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        await graphql.AssertNothingStoredAndStillServingAsync(owner, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_upload_from_an_instance_the_task_does_not_name_is_PermissionDenied() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent named = server.Agent("go-service", "provider1");
        using GoLikeAgent sibling = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", named);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => sibling.UploadAsync(taskId, TestData.Bytes("cpu")));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.DoesNotContain(sibling.InstanceId, (await graphql.ProgressAsync(taskId)).ToJsonString());
        await graphql.AssertNothingStoredAndStillServingAsync(named, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_upload_that_stalls_beyond_UploadTimeoutSeconds_is_DeadlineExceeded_and_stores_nothing() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.UploadTimeoutSeconds)] = "1" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        byte[] profile = TestData.Bytes("cpu");

        (var call, _) = await agent.BeginUploadAsync(agent.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile.Length));
        using (call)
        {
            RpcException timedOut = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.DeadlineExceeded, timedOut.StatusCode);
        }

        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });
}
