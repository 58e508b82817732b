using System.Text;
using System.Text.Json.Nodes;
using Flamewright.Pprof;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Configuration;
using Flamewright.Server.Tests.Support;
using Grpc.Core;

namespace Flamewright.Server.Tests.Receiver;

/// <summary>collect: what each way an upload ends leaves in the task's progress and uploads.</summary>
public sealed class UploadOutcomeTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_tasks_log_shows_every_operation_type_with_the_instance_that_caused_it() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.MaxUploadBytes)] = "65536" });
        using GoLikeAgent finished = server.Agent("go-service", "finished");
        using GoLikeAgent tooLarge = server.Agent("go-service", "too-large");
        using GoLikeAgent failed = server.Agent("go-service", "failed");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", finished, tooLarge, failed);

        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await finished.UploadAsync(taskId, TestData.Bytes("cpu")));
        Assert.Equal(PprofProfilingStatus.PprofTerminatedByOversize, await tooLarge.UploadAsync(taskId, new byte[65537]));
        Assert.Equal(PprofProfilingStatus.PprofExecutionTaskError, await failed.ReportErrorAsync(taskId, "profiling: CPU profiling already in use"));

        JsonNode progress = await graphql.ProgressAsync(taskId);
        Assert.Equal(
            [
                ("finished", "NOTIFIED"), ("too-large", "NOTIFIED"), ("failed", "NOTIFIED"),
                ("finished", "EXECUTION_FINISHED"), ("too-large", "PPROF_UPLOAD_FILE_TOO_LARGE_ERROR"), ("failed", "EXECUTION_TASK_ERROR"),
            ],
            progress["logs"]!.AsArray().Select(l => ((string)l!["instanceName"]!, (string)l["operationType"]!)));
        Assert.Equal([finished.InstanceId], Ids(progress["successInstanceIds"]));
        Assert.Equal([tooLarge.InstanceId, failed.InstanceId], Ids(progress["errorInstanceIds"]));
        Assert.Equal(["FINISHED", "FAILED", "FAILED"], progress["instances"]!.AsArray().Select(i => (string)i!["state"]!));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Many_instances_uploading_at_once_are_all_stored_and_merged() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        GoLikeAgent[] agents = [.. Enumerable.Range(1, 8).Select(i => server.Agent("go-service", $"provider{i}"))];
        try
        {
            byte[] heap = TestData.Bytes("heap");
            string taskId = await graphql.TaskTakenByAsync("HEAP", agents);

            PprofProfilingStatus[] answers = await Task.WhenAll(agents.Select(a => a.UploadAsync(taskId, heap)));

            Assert.All(answers, a => Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, a));
            Assert.Equal(agents.Length, (await graphql.UploadsAsync(taskId)).Count);
            Assert.Equal(agents.Length * Engine.Total(heap, "inuse_space"), await graphql.AnalyzedTotalAsync(taskId));
            Assert.Equal(agents.Length, (await graphql.ProgressAsync(taskId))["successInstanceIds"]!.AsArray().Count);
        }
        finally
        {
            Array.ForEach(agents, a => a.Dispose());
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_instance_is_pending_until_notified_and_notified_until_it_answers() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GoLikeAgent idle = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        await idle.RegisterAsync();
        string taskId = await graphql.CreateTaskAsync(agent.ServiceId, [agent.InstanceId, idle.InstanceId], "HEAP");
        await agent.PollAsync();

        JsonNode progress = await graphql.ProgressAsync(taskId);

        Assert.Equal(
            $$"""[{"instanceId":"{{agent.InstanceId}}","instanceName":"provider1","state":"NOTIFIED","reason":null,"since":{{server.Clock.NowMilliseconds}}},{"instanceId":"{{idle.InstanceId}}","instanceName":"provider2","state":"PENDING","reason":null,"since":null}]""",
            progress["instances"]!.ToJsonString());
        Assert.Empty(progress["successInstanceIds"]!.AsArray());
        Assert.Empty(progress["errorInstanceIds"]!.AsArray());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_agents_error_text_is_stored_and_shown_with_its_EXECUTION_TASK_ERROR() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        const string Reason = "cpu profiling already in use";

        Assert.Equal(PprofProfilingStatus.PprofExecutionTaskError, await agent.ReportErrorAsync(taskId, Reason));

        JsonNode progress = await graphql.ProgressAsync(taskId);
        JsonNode log = progress["logs"]!.AsArray().Last()!;
        Assert.Equal(("EXECUTION_TASK_ERROR", Reason), ((string)log["operationType"]!, (string?)log["message"]));
        Assert.Equal(("FAILED", Reason), ((string)progress["instances"]![0]!["state"]!, (string?)progress["instances"]![0]!["reason"]));
        Assert.Equal([agent.InstanceId], Ids(progress["errorInstanceIds"]));
        Assert.Empty(await graphql.UploadsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_error_without_a_text_as_the_Go_agent_sends_it_gets_a_default_reason() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        Assert.Equal(PprofProfilingStatus.PprofExecutionTaskError, await agent.ReportErrorAsync(taskId, null));

        JsonNode progress = await graphql.ProgressAsync(taskId);
        Assert.Equal("the agent reported an error without a reason", (string?)progress["logs"]!.AsArray().Last()!["message"]);
        Assert.Equal("the agent reported an error without a reason", (string?)progress["instances"]![0]!["reason"]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_error_text_sent_after_the_metadata_is_kept_too() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        (var call, PprofProfilingStatus answer) = await agent.BeginUploadAsync(agent.MetadataMessage(taskId, PprofProfilingStatus.PprofExecutionTaskError, 0));
        using (call)
        {
            Assert.Equal(PprofProfilingStatus.PprofExecutionTaskError, answer);
            await call.RequestStream.WriteAsync(new PprofData { ErrorMessage = "written after the metadata" });
            await GoLikeAgent.EndUploadAsync(call);
        }

        Assert.Equal("written after the metadata", (string?)(await graphql.ProgressAsync(taskId))["instances"]![0]!["reason"]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_declared_empty_profile_is_an_EXECUTION_TASK_ERROR() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        Assert.Equal(PprofProfilingStatus.PprofExecutionTaskError, await agent.UploadAsync(taskId, []));

        JsonNode log = await graphql.LastLogAsync(taskId);
        Assert.Equal(("EXECUTION_TASK_ERROR", "the agent declared an empty profile (contentSize 0)"), ((string)log["operationType"]!, (string?)log["message"]));
        Assert.Empty(await graphql.UploadsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_profile_that_does_not_parse_is_an_EXECUTION_TASK_ERROR_with_the_parsers_message_and_is_not_stored() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        byte[] garbage = Encoding.UTF8.GetBytes("this is not a profile, not even gzip");
        string parserMessage = Assert.Throws<PprofFormatException>(() => ProfileReader.Read(garbage)).Message;

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(taskId, garbage));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        JsonNode progress = await graphql.ProgressAsync(taskId);
        JsonNode log = progress["logs"]!.AsArray().Last()!;
        Assert.Equal("EXECUTION_TASK_ERROR", (string)log["operationType"]!);
        Assert.Contains(parserMessage, (string)log["message"]!);
        Assert.Equal([agent.InstanceId], Ids(progress["errorInstanceIds"]));
        Assert.Empty(progress["successInstanceIds"]!.AsArray());
        Assert.Empty(await graphql.UploadsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_re_upload_after_an_agent_restart_replaces_the_earlier_upload_and_is_never_counted_twice() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] before = TestData.Bytes("heap-a");
        byte[] after = TestData.Bytes("heap-b");
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, before));
        Assert.Equal(Engine.Total(before, "inuse_space"), await graphql.AnalyzedTotalAsync(taskId));

        agent.Restart();
        Assert.Equal(taskId, (await agent.PollAsync())?.TaskId);
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, after));

        JsonNode upload = Assert.Single(await graphql.UploadsAsync(taskId))!;
        Assert.Equal(agent.InstanceId, (string)upload["instanceId"]!);
        Assert.Equal(after.Length, (long)upload["compressedBytes"]!);
        Assert.Equal(Engine.Total(after, "inuse_space"), await graphql.AnalyzedTotalAsync(taskId));
        JsonNode progress = await graphql.ProgressAsync(taskId);
        Assert.Equal([agent.InstanceId], Ids(progress["successInstanceIds"]));
        Assert.Empty(progress["errorInstanceIds"]!.AsArray());
        Assert.Equal(["NOTIFIED", "EXECUTION_FINISHED", "NOTIFIED", "EXECUTION_FINISHED"], await graphql.OperationsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_instance_that_failed_and_then_uploaded_is_finished_and_only_a_success() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        await agent.ReportErrorAsync(taskId, "first attempt failed");

        agent.Restart();
        await agent.PollAsync();
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, TestData.Bytes("cpu")));

        JsonNode progress = await graphql.ProgressAsync(taskId);
        Assert.Equal([agent.InstanceId], Ids(progress["successInstanceIds"]));
        Assert.Empty(progress["errorInstanceIds"]!.AsArray());
        Assert.Equal(("FINISHED", null), ((string)progress["instances"]![0]!["state"]!, (string?)progress["instances"]![0]!["reason"]));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_instance_that_keeps_failing_is_listed_as_an_error_once() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        await agent.ReportErrorAsync(taskId, "first");
        await agent.ReportErrorAsync(taskId, "second");

        JsonNode progress = await graphql.ProgressAsync(taskId);
        Assert.Equal([agent.InstanceId], Ids(progress["errorInstanceIds"]));
        Assert.Equal("second", (string?)progress["instances"]![0]!["reason"]);
    });

    [Theory(Timeout = Spec.Timeout)]
    [InlineData(true)]
    [InlineData(false)]
    public Task An_error_text_just_under_the_message_limit_is_stored_cut_to_MaxErrorMessageLength_and_marked(bool inTheMetadataMessage) => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        string flood = Flood(new ServerOptions().MaxAgentMessageBytes - 1024);

        await ReportErrorAsync(agent, taskId, flood, inTheMetadataMessage);

        string expected = flood[..new ServerOptions().MaxErrorMessageLength] + "…(truncated)";
        JsonNode progress = await graphql.ProgressAsync(taskId);
        Assert.Equal(("EXECUTION_TASK_ERROR", expected), ((string)progress["logs"]!.AsArray().Last()!["operationType"]!, (string?)progress["logs"]!.AsArray().Last()!["message"]));
        Assert.Equal(("FAILED", expected), ((string)progress["instances"]![0]!["state"]!, (string?)progress["instances"]![0]!["reason"]));
        Assert.All(server.Logs.Entries, e => Assert.True(e.Message.Length < 8192, $"a log line of {e.Message.Length} characters"));
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_error_text_over_the_message_limit_in_the_metadata_message_is_refused_whole_with_ResourceExhausted() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => agent.ReportErrorAsync(taskId, Flood(10 * 1024 * 1024)));

        // gRPC refuses the message before reading it, so the server cannot know whose it was: the instance stays notified.
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal(["NOTIFIED"], await graphql.OperationsAsync(taskId));
        await server.AllUploadsReleasedAsync();
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_error_text_over_the_message_limit_after_the_metadata_fails_the_instance_saying_the_text_was_too_large() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        (var call, PprofProfilingStatus answer) = await agent.BeginUploadAsync(agent.MetadataMessage(taskId, PprofProfilingStatus.PprofExecutionTaskError, 0));
        using (call)
        {
            Assert.Equal(PprofProfilingStatus.PprofExecutionTaskError, answer);
            try
            {
                await call.RequestStream.WriteAsync(new PprofData { ErrorMessage = Flood(10 * 1024 * 1024) });
            }
            catch (RpcException)
            {
                // The server may have ended the call before the last bytes of the message left.
            }
        }

        await Eventually.HoldsAsync(async () => (await graphql.OperationsAsync(taskId)).Length == 2, "the error is logged");
        Assert.Equal(
            "the agent sent an error text larger than 4194304 bytes (MaxAgentMessageBytes); it was not read",
            (string?)(await graphql.ProgressAsync(taskId))["instances"]![0]!["reason"]);
        await server.AllUploadsReleasedAsync();
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_error_text_is_cut_at_the_MaxErrorMessageLength_setting_and_never_between_the_halves_of_a_surrogate_pair() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.MaxErrorMessageLength)] = "16" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GoLikeAgent exact = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent, exact);

        // The 16th character is the first half of "🔥": cutting there would store half a character.
        await agent.ReportErrorAsync(taskId, "panic: profiler🔥 crashed");
        await exact.ReportErrorAsync(taskId, "exactly sixteen!");

        var reasons = (await graphql.ProgressAsync(taskId))["instances"]!.AsArray().Select(i => (string?)i!["reason"]);
        Assert.Equal(["panic: profiler…(truncated)", "exactly sixteen!"], reasons);
    });

    private static string[] Ids(JsonNode? ids) => [.. ids!.AsArray().Select(i => (string)i!)];

    /// <summary>An error text of <paramref name="length"/> ASCII characters (as many UTF-8 bytes) that is not all one letter.</summary>
    private static string Flood(int length) => string.Create(length, 0, (chars, _) =>
    {
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)('a' + i % 26);
        }
    });

    /// <summary>Reports an error with its text in the metadata message, or in the message after it.</summary>
    private static async Task ReportErrorAsync(GoLikeAgent agent, string taskId, string text, bool inTheMetadataMessage)
    {
        if (inTheMetadataMessage)
        {
            Assert.Equal(PprofProfilingStatus.PprofExecutionTaskError, await agent.ReportErrorAsync(taskId, text));
            return;
        }

        (var call, PprofProfilingStatus answer) = await agent.BeginUploadAsync(agent.MetadataMessage(taskId, PprofProfilingStatus.PprofExecutionTaskError, 0));
        using (call)
        {
            Assert.Equal(PprofProfilingStatus.PprofExecutionTaskError, answer);
            await call.RequestStream.WriteAsync(new PprofData { ErrorMessage = text });
            await GoLikeAgent.EndUploadAsync(call);
        }
    }
}
