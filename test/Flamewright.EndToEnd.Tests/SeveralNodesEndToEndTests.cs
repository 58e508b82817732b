using System.Text.Json.Nodes;
using Flamewright.Agent;
using Flamewright.Agent.Targets;
using Flamewright.Agent.Tasks;
using Flamewright.Server.Tasks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flamewright.EndToEnd.Tests;

/// <summary>
/// Two <c>flamewright server</c> processes on one real PostgreSQL database, agents spread over both, and one
/// node killed (SIGKILL) while its agents are in the middle of tasks.
/// </summary>
public sealed class SeveralNodesEndToEndTests
{
    private const int Agents = 6;
    private static readonly TimeSpan TaskTimeout = TimeSpan.FromSeconds(60);

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Killing_one_node_mid_run_loses_no_task_and_no_upload_and_the_survivor_analyses_them_all() => Spec.Run(async () =>
    {
        string database = await (await PostgresCluster.SharedAsync()).CreateDatabaseAsync();
        string[] storage = ["--storage", "postgresql", "--postgres", database];
        // Both nodes start at once on the empty database: one migrates it, the other waits and finds it done.
        Task<ServerProcess>[] starting = [ServerProcess.StartAsync(null, storage), ServerProcess.StartAsync(null, storage)];
        await Task.WhenAll(starting);
        using ServerProcess a = await starting[0];
        using ServerProcess b = await starting[1];
        using var graphB = new GraphQLClient(b.HttpAddress);
        using var graphA = new GraphQLClient(a.HttpAddress);
        var source = new SlowHeapSource(TimeSpan.FromSeconds(2));
        string serviceId = SkyWalkingIds.ServiceId("go-service");
        string[] instanceIds = [.. Enumerable.Range(0, Agents).Select(i => SkyWalkingIds.InstanceId(serviceId, $"instance-{i}"))];

        using var stop = new CancellationTokenSource();
        var agents = new List<ProfilingAgent>();
        var running = new List<Task>();
        for (int i = 0; i < Agents; i++)
        {
            // Half the agents list A first, half B first: both nodes carry agents until A dies.
            string[] servers = i % 2 == 0 ? [$"127.0.0.1:{a.GrpcPort}", $"127.0.0.1:{b.GrpcPort}"] : [$"127.0.0.1:{b.GrpcPort}", $"127.0.0.1:{a.GrpcPort}"];
            var agent = new ProfilingAgent(Options(servers, $"instance-{i}"), NullLoggerFactory.Instance, source);
            agents.Add(agent);
            running.Add(agent.RunAsync(stop.Token));
        }

        try
        {
            await WaitForInstancesAsync(graphB, serviceId, Agents);
            string before = await graphA.CreateTaskAsync(serviceId, instanceIds, "HEAP");
            // Every agent has taken the task and is collecting (the source takes 2 s) when node A dies.
            await source.AllStartedAsync(before, Agents, TaskTimeout);
            a.Process.Kill();
            await a.Process.WaitForExitAsync();
            string after = await graphB.CreateTaskAsync(serviceId, instanceIds, "ALLOCS");

            foreach (string taskId in new[] { before, after })
            {
                JsonArray instances = await graphB.WaitAsync(taskId, TaskTimeout);
                Assert.All(instances, i => Assert.True((string?)i!["state"] == "FINISHED", $"{taskId}: {i!.ToJsonString()}\nnode B:\n{b.Output}"));
                JsonArray uploads = (await graphB.DataAsync("query ($id: ID!) { queryPprofUploads(taskId: $id) { instanceId } }", new { id = taskId }))["queryPprofUploads"]!.AsArray();
                Assert.Equal(instanceIds.Order(), uploads.Select(u => (string)u!["instanceId"]!).Order());
                // The first element is the root: every instance's profile merged.
                long total = (long)(await graphB.DataAsync(
                    "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { total } } } }",
                    new { r = new { taskId, instanceIds } }))["queryPprofAnalyze"]!["tree"]!["elements"]![0]!["total"]!;
                string sampleType = taskId == before ? "inuse_space" : "alloc_space";
                Assert.Equal(Agents * Engine.Total(File.ReadAllBytes(TestData.Profile("heap")), sampleType), total);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(running);
            agents.ForEach(agent => agent.Dispose());
        }
    });

    private static AgentOptions Options(string[] servers, string instance) => new()
    {
        Servers = servers,
        Service = "go-service",
        Instance = instance,
        PollInterval = TimeSpan.FromMilliseconds(300),
        KeepAliveInterval = TimeSpan.FromSeconds(1),
        MinBackoff = TimeSpan.FromMilliseconds(200),
        CallTimeout = TimeSpan.FromSeconds(5),
    };

    private static async Task WaitForInstancesAsync(GraphQLClient graph, string serviceId, int count)
    {
        DateTime until = DateTime.UtcNow.AddSeconds(30);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var duration = new { start = DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-dd HHmm"), end = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-dd HHmm"), step = "MINUTE" };
        while (true)
        {
            JsonArray instances = (await graph.DataAsync("query ($d: Duration!, $s: ID!) { listInstances(duration: $d, serviceId: $s) { id } }",
                new { d = duration, s = serviceId }))["listInstances"]!.AsArray();
            if (instances.Count == count)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < until, $"only {instances.Count} of {count} agents registered within 30 s (since {now})");
            await Task.Delay(200);
        }
    }

    /// <summary>The checked-in heap profile, after a pause that stands for the profiling itself.</summary>
    private sealed class SlowHeapSource(TimeSpan pause) : IProfileSource
    {
        private readonly Dictionary<string, int> _started = [];

        public async Task<CollectedProfile> CollectAsync(PprofCommand task, TimeSpan profilingTime, CancellationToken cancellationToken)
        {
            lock (_started)
            {
                _started[task.TaskId] = _started.GetValueOrDefault(task.TaskId) + 1;
            }

            await Task.Delay(pause, cancellationToken);
            return CollectedProfile.Of(File.ReadAllBytes(TestData.Profile("heap")));
        }

        public async Task AllStartedAsync(string taskId, int count, TimeSpan timeout)
        {
            DateTime until = DateTime.UtcNow + timeout;
            while (true)
            {
                lock (_started)
                {
                    if (_started.GetValueOrDefault(taskId) >= count)
                    {
                        return;
                    }
                }

                Assert.True(DateTime.UtcNow < until, $"not every agent took task {taskId} within {timeout}");
                await Task.Delay(50);
            }
        }
    }
}
