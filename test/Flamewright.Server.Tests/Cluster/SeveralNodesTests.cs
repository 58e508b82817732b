using Flamewright.Agent;
using Flamewright.Agent.Targets;
using Flamewright.Agent.Tasks;
using Flamewright.Protocol.Pprof;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flamewright.Server.Tests.Cluster;

/// <summary>
/// Two server nodes in this process on one real PostgreSQL database, sharing a clock: whatever one node
/// writes, the other serves.
/// </summary>
public sealed class SeveralNodesTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_task_created_on_one_node_reaches_an_agent_polling_the_other_on_its_first_poll_and_is_analysed_on_either() => Spec.Run(async () =>
    {
        await using Nodes nodes = await Nodes.StartAsync();
        using GoLikeAgent agent = nodes.B.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        using GraphQLClient onA = nodes.A.GraphQL();
        using GraphQLClient onB = nodes.B.GraphQL();

        string taskId = await onA.CreateTaskAsync(agent.ServiceId, [agent.InstanceId], "HEAP");

        Assert.Equal(taskId, (await agent.PollAsync())?.TaskId);
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, TestData.Bytes("heap")));
        long expected = Engine.Total(TestData.Bytes("heap"), "inuse_space");
        Assert.Equal(expected, await onA.AnalyzedTotalAsync(taskId));
        Assert.Equal(expected, await onB.AnalyzedTotalAsync(taskId));
        Assert.Equal(["NOTIFIED", "EXECUTION_FINISHED"], await onA.OperationsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_dashboard_the_web_UI_saves_through_one_node_is_served_by_the_other_and_both_shipped_the_same_templates_once() => Spec.Run(async () =>
    {
        await using Nodes nodes = await Nodes.StartAsync();
        using GraphQLClient onA = nodes.A.GraphQL();
        using GraphQLClient onB = nodes.B.GraphQL();

        string id = (string)(await onA.DataAsync(
            "mutation ($s: NewDashboardSetting!) { addTemplate(setting: $s) { id status } }",
            new { s = new { configuration = "{\"layer\":\"GENERAL\",\"entity\":\"Service\",\"name\":\"Team\",\"children\":[]}" } }))["addTemplate"]!["id"]!;
        string[] listedOnB = [.. (await onB.DataAsync("{ getAllTemplates { id } }"))["getAllTemplates"]!.AsArray().Select(t => (string)t!["id"]!)];

        Assert.Equal(3, listedOnB.Length);
        Assert.Contains(id, listedOnB);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Nodes_racing_to_create_the_same_kind_of_task_for_one_service_let_exactly_one_win() => Spec.Run(async () =>
    {
        await using Nodes nodes = await Nodes.StartAsync();
        using GoLikeAgent agent = nodes.A.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        GraphQLClient[] clients = [nodes.A.GraphQL(), nodes.B.GraphQL()];
        try
        {
            var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
                Task.Run(() => clients[i % 2].CreateTaskResultAsync(agent.ServiceId, [agent.InstanceId], "CPU", duration: 5))));

            Assert.Single(answers, a => (string?)a["code"] == "SUCCESS");
            Assert.All(answers.Where(a => (string?)a["code"] != "SUCCESS"), a => Assert.Equal("ALREADY_PROFILING_ERROR", (string?)a["code"]));
            Assert.Single(await clients[1].TasksAsync(agent.ServiceId));
        }
        finally
        {
            Array.ForEach(clients, c => c.Dispose());
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_upload_cut_off_on_one_node_and_sent_again_to_the_other_is_stored_once() => Spec.Run(async () =>
    {
        await using Nodes nodes = await Nodes.StartAsync();
        using GoLikeAgent onA = nodes.A.Agent("go-service", "provider1");
        using GoLikeAgent onB = nodes.B.Agent("go-service", "provider1");
        using GraphQLClient graphql = nodes.B.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", onA);
        byte[] profile = TestData.Bytes("cpu");

        await onA.HangUpMidUploadAsync(taskId, profile);
        await nodes.A.UploadAbandonedAsync();
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await onB.UploadAsync(taskId, profile));

        Assert.Single(await graphql.UploadsAsync(taskId));
        Assert.Single(await graphql.OperationsAsync(taskId), "EXECUTION_FINISHED");
        Assert.Equal(Engine.Total(profile, "cpu"), await graphql.AnalyzedTotalAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_profile_replaced_through_one_node_is_what_the_other_node_analyses_next_from_its_caches_too() => Spec.Run(async () =>
    {
        await using Nodes nodes = await Nodes.StartAsync();
        using GoLikeAgent onA = nodes.A.Agent("go-service", "provider1");
        using GoLikeAgent onB = nodes.B.Agent("go-service", "provider1");
        using GraphQLClient graphqlA = nodes.A.GraphQL();
        string taskId = await graphqlA.TaskWithUploadsAsync("HEAP", (onA, TestData.Bytes("heap")));
        // Node A caches the decoded upload, the merged tree and the top table of the task.
        Assert.Equal(Engine.Total(TestData.Bytes("heap"), "inuse_space"), await graphqlA.AnalyzedTotalAsync(taskId));
        Assert.Equal(Engine.Total(TestData.Bytes("heap"), "inuse_space"), await ViewAndTopTotalsAsync(graphqlA, taskId));

        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await onB.UploadAsync(taskId, TestData.Bytes("heap-a")));

        Assert.Equal(Engine.Total(TestData.Bytes("heap-a"), "inuse_space"), await graphqlA.AnalyzedTotalAsync(taskId));
        Assert.Equal(Engine.Total(TestData.Bytes("heap-a"), "inuse_space"), await ViewAndTopTotalsAsync(graphqlA, taskId));
    });

    /// <summary>The total of the task's flame view, checked equal to its top table's.</summary>
    private static async Task<long> ViewAndTopTotalsAsync(GraphQLClient graphql, string taskId)
    {
        System.Text.Json.Nodes.JsonNode data = await graphql.DataAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofFlameView(request: $r, width: 800) { total } queryPprofTop(request: $r, limit: 1) { total } }",
            new { r = new { taskId, instanceIds = Array.Empty<string>() } });
        long view = (long)data["queryPprofFlameView"]!["total"]!;
        Assert.Equal(view, (long)data["queryPprofTop"]!["total"]!);
        return view;
    }

    [Fact(Timeout = Spec.Timeout)]
    public Task The_agent_moves_to_the_next_node_when_its_node_goes_away_and_finishes_the_task_there() => Spec.Run(async () =>
    {
        await using Nodes nodes = await Nodes.StartAsync();
        var options = new AgentOptions
        {
            Servers = [$"127.0.0.1:{nodes.A.Server.GrpcPort}", $"127.0.0.1:{nodes.B.Server.GrpcPort}"],
            Service = "go-service",
            Instance = "provider1",
            PollInterval = TimeSpan.FromMilliseconds(200),
            KeepAliveInterval = TimeSpan.FromMilliseconds(200),
            MinBackoff = TimeSpan.FromMilliseconds(100),
        };
        using var agent = new ProfilingAgent(options, NullLoggerFactory.Instance, new HeapSource());
        using var stop = new CancellationTokenSource();
        Task running = agent.RunAsync(stop.Token);
        using GraphQLClient graphql = nodes.B.GraphQL();
        string serviceId = Flamewright.Server.Tasks.SkyWalkingIds.ServiceId("go-service");
        string instanceId = Flamewright.Server.Tasks.SkyWalkingIds.InstanceId(serviceId, "provider1");
        await Eventually.HoldsAsync(async () => (await graphql.GetInstanceAsync(instanceId)) is not null, "the agent registered");

        await nodes.StopAAsync();
        string taskId = await graphql.CreateTaskAsync(serviceId, [instanceId], "HEAP");

        await Eventually.HoldsAsync(async () => (await graphql.OperationsAsync(taskId)).Contains("EXECUTION_FINISHED"), "the task finished on node B", TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await running;
        Assert.Single(await graphql.UploadsAsync(taskId));
        Assert.Equal(Engine.Total(TestData.Bytes("heap"), "inuse_space"), await graphql.AnalyzedTotalAsync(taskId));
    });

    /// <summary>Nodes A and B on a fresh database of the shared test cluster.</summary>
    private sealed class Nodes : IAsyncDisposable
    {
        private bool _aStopped;

        private Nodes(TestServer a, TestServer b)
        {
            A = a;
            B = b;
        }

        public TestServer A { get; }

        public TestServer B { get; }

        public static async Task<Nodes> StartAsync()
        {
            string database = await (await PostgresCluster.SharedAsync()).CreateDatabaseAsync();
            var settings = new Dictionary<string, string> { ["Storage"] = "postgresql", ["PostgresConnectionString"] = database };
            var clock = new ManualClock();
            TestServer a = await TestServer.StartAsync(settings, clock: clock);
            TestServer b = await TestServer.StartAsync(settings, clock: clock);
            return new Nodes(a, b);
        }

        public async Task StopAAsync()
        {
            _aStopped = true;
            await A.DisposeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (!_aStopped)
            {
                await A.DisposeAsync();
            }

            await B.DisposeAsync();
        }
    }

    private sealed class HeapSource : IProfileSource
    {
        public Task<CollectedProfile> CollectAsync(PprofCommand task, TimeSpan profilingTime, CancellationToken cancellationToken) =>
            Task.FromResult(CollectedProfile.Of(TestData.Bytes("heap")));
    }
}
