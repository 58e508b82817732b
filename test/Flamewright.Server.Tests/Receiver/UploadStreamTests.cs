using System.Text.Json.Nodes;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Configuration;
using Flamewright.Server.Tests.Support;
using Google.Protobuf;
using Grpc.Core;

namespace Flamewright.Server.Tests.Receiver;

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

    [Theory(Timeout = Spec.Timeout)]
    [InlineData(2 * GoLikeAgent.ChunkSize + 1, GoLikeAgent.ChunkSize + 10, "the agent sent more than the 1048586 bytes it declared; nothing was stored")]
    [InlineData(2 * GoLikeAgent.ChunkSize + 1, 3 * GoLikeAgent.ChunkSize, "the stream ended after {0} of the 3145728 bytes declared; nothing was stored")]
    public Task A_byte_count_that_misses_the_declared_size_across_chunks_is_refused_with_the_reason_and_stores_nothing(int atLeast, int declared, string reason) => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        byte[] profile = TestData.Padded("cpu", atLeast);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(taskId, profile, declared));

        Assert.Equal((StatusCode.InvalidArgument, string.Format(reason, profile.Length)), (refused.StatusCode, refused.Status.Detail));
        Assert.Equal("the upload failed: " + string.Format(reason, profile.Length), (string?)(await graphql.LastLogAsync(taskId))["message"]);
        await server.AllUploadsReleasedAsync();
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Content_in_the_metadata_message_is_an_InvalidArgument_rather_than_dropped_or_guessed_at() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        byte[] profile = TestData.Bytes("cpu");
        PprofData both = agent.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile.Length);
        both.Content = ByteString.CopyFrom(profile);

        using (var call = agent.OpenCollect())
        {
            await call.RequestStream.WriteAsync(both);
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        }

        Assert.Equal(
            "the upload failed: the metadata message carried content: content goes in the messages after the server's answer; nothing was stored",
            (string?)(await graphql.LastLogAsync(taskId))["message"]);
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_task_id_longer_than_any_the_server_makes_is_refused_without_being_looked_up_or_echoed() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        string huge = taskId + new string('x', 3 * 1024 * 1024);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(huge, TestData.Bytes("cpu")));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal($"the task id is {huge.Length} characters long; no task id is longer than {Flamewright.Server.Receiver.UploadReceiver.MaxTaskIdLength}", refused.Status.Detail);
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_longest_task_id_the_server_makes_is_within_the_task_id_limit() => Spec.Run(async () =>
    {
        // A service name of the longest length, each character as many UTF-8 bytes as a char can take.
        string service = new('\u20AC', Flamewright.Server.Receiver.AgentNames.MaxLength);
        string longest = Flamewright.Server.Tasks.SkyWalkingIds.TaskId(long.MinValue, Flamewright.Server.Tasks.SkyWalkingIds.ServiceId(service));

        Assert.InRange(longest.Length, Flamewright.Server.Receiver.UploadReceiver.MaxTaskIdLength - 8, Flamewright.Server.Receiver.UploadReceiver.MaxTaskIdLength);
        await Task.CompletedTask;
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_upload_for_a_task_that_retention_removed_is_NotFound_and_stores_nothing() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("HEAP", agent);
        server.Clock.Advance(TimeSpan.FromDays(3) + TimeSpan.FromMinutes(1));
        Assert.Equal(1, await server.SweepExpiredAsync());

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(taskId, TestData.Bytes("heap")));

        Assert.Equal((StatusCode.NotFound, $"unknown task '{taskId}' (it may have expired)"), (refused.StatusCode, refused.Status.Detail));
        Assert.Empty(await graphql.UploadsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_upload_after_the_dispatch_window_is_stored_since_the_agent_took_the_task_within_it() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GoLikeAgent late = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync();
        await late.RegisterAsync();
        string taskId = await graphql.CreateTaskAsync(agent.ServiceId, [agent.InstanceId, late.InstanceId], "CPU", duration: 15);
        Assert.Equal(taskId, (await agent.PollAsync())?.TaskId);
        long dispatchUntil = (long)(await graphql.TasksAsync(agent.ServiceId))[0]!["dispatchUntil"]!;

        // Taken at the last moment of the window, a 15-minute profile is uploaded 15 minutes after the window closed.
        server.Clock.Advance(TimeSpan.FromMilliseconds(dispatchUntil - server.Clock.NowMilliseconds) + TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(20));
        Assert.Null(await late.PollAsync());

        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, TestData.Bytes("cpu")));
        Assert.Equal(agent.InstanceId, (string)Assert.Single(await graphql.UploadsAsync(taskId))!["instanceId"]!);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_newer_upload_of_the_same_instance_replaces_the_one_in_progress_which_is_Aborted_and_leaves_no_error_log() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        byte[] profile = TestData.Bytes("cpu");

        (var older, PprofProfilingStatus answer) = await agent.BeginUploadAsync(agent.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile.Length));
        using (older)
        {
            Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, answer);
            await older.RequestStream.WriteAsync(new PprofData { Content = ByteString.CopyFrom(profile, 0, profile.Length / 2) });

            Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, profile));

            RpcException replaced = await Assert.ThrowsAsync<RpcException>(() => older.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.Aborted, replaced.StatusCode);
        }

        Assert.Single(await graphql.UploadsAsync(taskId));
        Assert.Equal(["NOTIFIED", "EXECUTION_FINISHED"], await graphql.OperationsAsync(taskId));
        await server.AllUploadsReleasedAsync();
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_hundred_streams_of_one_instance_opened_and_dropped_hold_one_buffer_at_a_time_and_leave_one_error_log() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GoLikeAgent attacker = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        using var drop = new CancellationTokenSource();
        var calls = new List<AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse>>();

        await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            var call = attacker.OpenCollect(drop.Token);
            lock (calls)
            {
                calls.Add(call);
            }

            await call.RequestStream.WriteAsync(attacker.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, 1 << 20));
        }));
        // Each newer stream ends the one before it: one is left, holding the one slot this instance may take. (All
        // hundred must have reached the server: a stream the client wrote may not have been dispatched yet.)
        await Eventually.HoldsAsync(
            () => server.UploadLoad is { Streams: 1, Receiving: 1 } && server.Logs.Entries.Count(e => e.Event.Id == 204) == 99,
            "one stream of the instance is left receiving, the other 99 replaced");
        await drop.CancelAsync();
        calls.ForEach(c => c.Dispose());
        await server.AllUploadsReleasedAsync();

        Assert.Equal(["NOTIFIED", "EXECUTION_TASK_ERROR"], await graphql.OperationsAsync(taskId));
        Assert.Equal(99, server.Logs.Entries.Count(e => e.Event.Id == 204));
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Theory(Timeout = Spec.Timeout)]
    [InlineData(true)]
    [InlineData(false)]
    public Task A_stream_silent_for_UploadIdleTimeoutSeconds_after_some_content_is_ended_its_buffer_freed_and_the_instance_told_why(bool memoryParser) => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            [nameof(ServerOptions.UploadIdleTimeoutSeconds)] = "1",
            [nameof(ServerOptions.MemoryParser)] = memoryParser.ToString(),
        });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        byte[] profile = TestData.Bytes("cpu");
        var started = System.Diagnostics.Stopwatch.StartNew();

        (var call, _) = await agent.BeginUploadAsync(agent.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile.Length));
        using (call)
        {
            await call.RequestStream.WriteAsync(new PprofData { Content = ByteString.CopyFrom(profile, 0, profile.Length / 2) });
            RpcException ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal((StatusCode.DeadlineExceeded, "the agent sent nothing for 1 s; nothing was stored"), (ended.StatusCode, ended.Status.Detail));
        }

        // Ended by the idle timer, not by the 120 s of the whole upload nor by the agent's own 60 s deadline. (The
        // server's timer and this stopwatch read different clocks: the timer may fire a millisecond "early".)
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(20));
        await server.AllUploadsReleasedAsync();
        Assert.Empty(Directory.Exists(Path.Combine(server.DataDir, "uploads.tmp")) ? Directory.GetFiles(Path.Combine(server.DataDir, "uploads.tmp")) : []);
        Assert.Contains(server.Logs.Entries, e => e.Event.Id == 203 && e.Message == "Upload abandoned: the agent sent nothing for 1 s");
        JsonNode instance = (await graphql.ProgressAsync(taskId))["instances"]![0]!;
        Assert.Equal(("FAILED", "the upload failed: the agent sent nothing for 1 s; nothing was stored"), ((string)instance["state"]!, (string?)instance["reason"]));
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_stream_that_never_sends_its_metadata_is_ended_after_UploadIdleTimeoutSeconds() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.UploadIdleTimeoutSeconds)] = "1" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        using (var call = agent.OpenCollect())
        {
            RpcException ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.DeadlineExceeded, ended.StatusCode);
        }

        await server.AllUploadsReleasedAsync();
        Assert.Equal(["NOTIFIED"], await graphql.OperationsAsync(taskId));
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_upload_whose_chunks_each_come_within_the_idle_timeout_is_stored_however_long_it_takes_in_all() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.UploadIdleTimeoutSeconds)] = "2" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        byte[] profile = TestData.Bytes("cpu");
        const int Pieces = 5;

        (var call, _) = await agent.BeginUploadAsync(agent.MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile.Length));
        using (call)
        {
            int piece = (profile.Length + Pieces - 1) / Pieces;
            for (int offset = 0; offset < profile.Length; offset += piece)
            {
                // 5 × 700 ms: well past the idle timeout in all, well within it each time.
                await Task.Delay(700);
                await call.RequestStream.WriteAsync(new PprofData { Content = ByteString.CopyFrom(profile, offset, Math.Min(piece, profile.Length - offset)) });
            }

            await GoLikeAgent.EndUploadAsync(call);
        }

        Assert.Single(await graphql.UploadsAsync(taskId));
    });
}
