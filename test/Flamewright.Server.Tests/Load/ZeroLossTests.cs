using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Configuration;
using Flamewright.Server.Tasks;
using Grpc.Core;
using Xunit.Abstractions;

namespace Flamewright.Server.Tests.Load;

/// <summary>
/// The load of benchmarks/README.md, small enough for CI: Go-like agents poll and upload profiles of mixed sizes while an operator
/// creates tasks and a user queries, with few upload slots so that uploads contend for them. Whether the server
/// refuses an upload that finds them taken or makes it wait in line, an upload an agent saw acknowledged
/// is stored exactly once and analysable, and nothing is counted twice. Timing is never asserted. The load
/// benchmark (benchmarks/README.md, "Server under load") is the large version, with figures.
/// Alone, because it loads the whole process.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class ZeroLossTests(ITestOutputHelper output)
{
    /// <summary>20 agents: 4 services of 5 instances.</summary>
    private const int Services = 4, InstancesPerService = 5;

    /// <summary>Few slots for 20 agents: uploads meet a full server often.</summary>
    private const int UploadSlots = 4;

    private const int MiB = 1024 * 1024;

    /// <summary>How long the operator creates tasks; the agents then take and answer what is left.</summary>
    private static readonly TimeSpan CreatingFor = TimeSpan.FromSeconds(8);

    private static readonly TimeSpan TaskEvery = TimeSpan.FromMilliseconds(300);

    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Per event, the real Go profiles of its kind an agent uploads: a few KiB as recorded, and grown to a few MiB
    /// (several 1 MiB chunks, the same samples). One kind per task, so that its analysis merges like with like.
    /// </summary>
    private static readonly Dictionary<string, byte[][]> s_profiles = new()
    {
        ["CPU"] = [TestData.Bytes("cpu"), TestData.Padded("cpu", 3 * MiB)],
        ["HEAP"] = [TestData.Bytes("heap"), TestData.Bytes("heap-a"), TestData.Padded("heap", 2 * MiB)],
        ["ALLOCS"] = [TestData.Bytes("allocs"), TestData.Padded("allocs", MiB + MiB / 2)],
    };

    private static readonly string[] s_events = ["HEAP", "ALLOCS", "CPU"];

    /// <param name="uploadQueueSeconds">0: an upload that finds every slot taken is refused at once; 20, the default: it waits in line.</param>
    /// <param name="storage">The server's storage: the embedded SQLite file, or a database of the test PostgreSQL cluster.</param>
    [Theory(Timeout = Spec.Timeout)]
    [InlineData(0, "sqlite")]
    [InlineData(20, "sqlite")]
    [InlineData(20, "postgresql")]
    public Task Every_acknowledged_upload_of_twenty_agents_contending_for_four_slots_is_stored_once_and_analysable_while_a_user_queries(int uploadQueueSeconds, string storage) => Spec.Run(async () =>
    {
        var settings = new Dictionary<string, string>
        {
            [nameof(ServerOptions.MaxConcurrentUploads)] = UploadSlots.ToString(),
            [nameof(ServerOptions.UploadQueueSeconds)] = uploadQueueSeconds.ToString(),
        };
        if (storage == "postgresql")
        {
            settings[nameof(ServerOptions.Storage)] = storage;
            settings[nameof(ServerOptions.PostgresConnectionString)] = await (await PostgresCluster.SharedAsync()).CreateDatabaseAsync();
        }

        await using TestServer server = await TestServer.StartAsync(settings);
        using GraphQLClient graphql = server.GraphQL();
        GoLikeAgent[] agents = [.. Enumerable.Range(0, Services * InstancesPerService)
            .Select(i => server.Agent($"load-service-{i % Services}", $"instance-{i / Services}"))];
        try
        {
            foreach (GoLikeAgent agent in agents)
            {
                await agent.RegisterAsync();
            }

            var uploads = new ConcurrentQueue<Attempt>();
            var tasks = new ConcurrentDictionary<string, string>();
            using var stop = new CancellationTokenSource();
            Task creating = CreateTasksAsync(server, agents, tasks, stop.Token);
            Task querying = QueryAsync(server.GraphQL(), agents[0].ServiceId, stop.Token);
            Task[] uploading = [.. agents.Select((a, i) => UploadAsync(a, new Random(i), uploads, creating))];
            stop.CancelAfter(CreatingFor);
            await Task.WhenAll([creating, querying, .. uploading]);
            await server.AllUploadsReleasedAsync();

            Attempt[] all = [.. uploads];
            output.WriteLine($"{tasks.Count} tasks, {all.Length} uploads: {all.Count(a => a.Refused is null)} acknowledged, {all.Count(a => a.Refused is not null)} refused");
            foreach (IGrouping<string?, Attempt> refused in all.Where(a => a.Refused is not null).GroupBy(a => a.Refused))
            {
                output.WriteLine($"  refused {refused.Count()} x {refused.Key}");
            }

            Assert.Contains(all, a => a.Refused is null);
            // The only refusal contention may cause: no slot within UploadQueueSeconds.
            Assert.All(all.Where(a => a.Refused is not null), a => Assert.Contains("MaxConcurrentUploads", a.Refused));
            foreach ((string taskId, string events) in tasks)
            {
                await AssertStoredOnceAsync(graphql, taskId, events, [.. all.Where(a => a.TaskId == taskId)]);
            }
        }
        finally
        {
            foreach (GoLikeAgent agent in agents)
            {
                agent.Dispose();
            }
        }
    });

    /// <summary>One upload as its agent saw it; <see cref="Refused"/> is the server's reason when it did not take it.</summary>
    private sealed record Attempt(string TaskId, string InstanceId, byte[] Profile, string? Refused);

    /// <summary>
    /// What the server holds for one task against what its agents saw: every acknowledged upload stored once, with its
    /// bytes, and nothing else; one final log per instance, EXECUTION_FINISHED exactly for the acknowledged ones; and
    /// the analysis of all of them weighs what the engine finds in the profiles uploaded.
    /// </summary>
    private static async Task AssertStoredOnceAsync(GraphQLClient graphql, string taskId, string events, Attempt[] attempts)
    {
        Attempt[] acknowledged = [.. attempts.Where(a => a.Refused is null)];
        JsonArray stored = await graphql.UploadsAsync(taskId);
        string[] storedInstances = [.. stored.Select(u => (string)u!["instanceId"]!)];
        Assert.Equal(storedInstances.Distinct().Count(), storedInstances.Length);
        Assert.Equal(acknowledged.Select(a => a.InstanceId).Order(), storedInstances.Order());
        foreach (JsonNode? upload in stored)
        {
            Assert.Equal(acknowledged.Single(a => a.InstanceId == (string)upload!["instanceId"]!).Profile.Length, (long)upload!["compressedBytes"]!);
        }

        // Every instance took the task (the agents drained their polls) and has exactly one outcome.
        Assert.Equal(InstancesPerService, attempts.Length);
        Assert.Equal(attempts.Length, attempts.Select(a => a.InstanceId).Distinct().Count());
        JsonArray logs = (await graphql.ProgressAsync(taskId))["logs"]!.AsArray();
        foreach (Attempt attempt in attempts)
        {
            string[] outcomes = [.. logs.Where(l => (string)l!["instanceId"]! == attempt.InstanceId && (string)l["operationType"]! != nameof(TaskLogOperation.NOTIFIED))
                .Select(l => (string)l!["operationType"]!)];
            Assert.Equal(attempt.Refused is null ? nameof(TaskLogOperation.EXECUTION_FINISHED) : nameof(TaskLogOperation.EXECUTION_TASK_ERROR), Assert.Single(outcomes));
        }

        if (acknowledged.Length > 0)
        {
            string sampleType = Enum.Parse<PprofEvent>(events).NaturalSampleType();
            Assert.Equal(acknowledged.Sum(a => Engine.Total(a.Profile, sampleType)), await graphql.AnalyzedTotalAsync(taskId));
        }
    }

    /// <summary>
    /// The operator: a task every <see cref="TaskEvery"/>, for every instance of the next service in turn, until
    /// stopped. The server's clock moves a second per task; a CPU task runs a minute, so a service's next CPU task
    /// meets ALREADY_PROFILING, as SkyWalking answers it, and is not made.
    /// </summary>
    private static async Task CreateTasksAsync(TestServer server, GoLikeAgent[] agents, ConcurrentDictionary<string, string> tasks, CancellationToken stop)
    {
        using GraphQLClient graphql = server.GraphQL();
        for (int turn = 0; !stop.IsCancellationRequested; turn++)
        {
            server.Clock.Advance(TimeSpan.FromSeconds(1));
            string events = s_events[turn / Services % s_events.Length];
            GoLikeAgent[] service = [.. agents.Where((_, i) => i % Services == turn % Services)];
            JsonNode result = await graphql.CreateTaskResultAsync(service[0].ServiceId, service.Select(a => a.InstanceId), events, events == "CPU" ? Scenarios.Duration : null);
            if ((string?)result["code"] == "SUCCESS")
            {
                tasks[(string)result["id"]!] = events;
            }
            else
            {
                Assert.Equal("ALREADY_PROFILING_ERROR", (string?)result["code"]);
            }

            await Task.Delay(TaskEvery, CancellationToken.None);
        }
    }

    /// <summary>A user: the task list, the newest task's progress, and its analysis once it has uploads, again and again.</summary>
    private static async Task QueryAsync(GraphQLClient graphql, string serviceId, CancellationToken stop)
    {
        using (graphql)
        {
            while (!stop.IsCancellationRequested)
            {
                JsonArray tasks = await graphql.TasksAsync(serviceId);
                if (tasks.Count > 0)
                {
                    string taskId = (string)tasks[0]!["id"]!;
                    if ((await graphql.UploadsAsync(taskId)).Count > 0)
                    {
                        Assert.True(await graphql.AnalyzedTotalAsync(taskId) > 0);
                    }

                    await graphql.ProgressAsync(taskId);
                }

                await Task.Delay(PollEvery, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// An agent: polls, uploads a profile of the task's kind for each task it takes, and polls again at once; after
    /// the operator is done it goes on until a poll hands it nothing, so that every instance of every task answers.
    /// </summary>
    private static async Task UploadAsync(GoLikeAgent agent, Random random, ConcurrentQueue<Attempt> uploads, Task creating)
    {
        while (true)
        {
            bool created = creating.IsCompleted;
            ReceivedTask? task = await agent.PollAsync();
            if (task is null)
            {
                if (created)
                {
                    return;
                }

                await Task.Delay(PollEvery, CancellationToken.None);
                continue;
            }

            byte[][] kinds = s_profiles[task.Events.ToUpperInvariant()];
            byte[] profile = kinds[random.Next(kinds.Length)];
            string? refused;
            try
            {
                PprofProfilingStatus answer = await agent.UploadAsync(task.TaskId, profile);
                refused = answer == PprofProfilingStatus.PprofProfilingSuccess ? null : $"answered {answer}";
            }
            catch (RpcException e)
            {
                refused = $"{e.StatusCode}: {e.Status.Detail}";
            }

            uploads.Enqueue(new Attempt(task.TaskId, agent.InstanceId, profile, refused));
        }
    }
}
