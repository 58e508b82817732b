using Flamewright.Agent.Protocol;
using Flamewright.Agent.Targets;
using Flamewright.Agent.Tasks;
using Flamewright.Server.Tasks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flamewright.Agent.Tests;

/// <summary>The agent library's task runner against the in-process server, with a profile source the test controls.</summary>
public sealed class TaskRunnerTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_CPU_task_that_overlaps_a_running_one_fails_at_once_with_the_reason() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        string serviceId = SkyWalkingIds.ServiceId("go-service");
        string instanceId = SkyWalkingIds.InstanceId(serviceId, "provider1");
        string first = await graphql.CreateTaskAsync(serviceId, [instanceId], "CPU", duration: 1);
        server.Clock.Advance(TimeSpan.FromMinutes(2));
        string second = await graphql.CreateTaskAsync(serviceId, [instanceId], "CPU", duration: 1);
        AgentOptions options = Options(server.GrpcAddress);
        var source = new HeldSource();
        using var client = new AgentClient(options, NullLogger.Instance);
        using var runner = new TaskRunner(client, source, options, NullLogger.Instance);

        Task running = runner.RunAsync(Command(first, "cpu"), CancellationToken.None);
        await source.Started.Task;
        await runner.RunAsync(Command(second, "cpu"), CancellationToken.None);
        var overlapping = (await graphql.ProgressAsync(second))["instances"]![0]!;
        source.Release.SetResult();
        await running;

        Assert.Equal("FAILED", (string?)overlapping["state"]);
        Assert.Equal($"another CPU profile (task {first}) is running in this process; Go runs one CPU profile at a time", (string?)overlapping["reason"]);
        Assert.Equal("FINISHED", (string?)(await graphql.ProgressAsync(first))["instances"]![0]!["state"]);
        Assert.Equal(1, source.Calls);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_finished_profile_waits_for_a_server_that_is_briefly_down_instead_of_being_lost() => Spec.Run(async () =>
    {
        string dataDir = Directory.CreateTempSubdirectory("flamewright-agent-").FullName;
        int port = FreePort();
        var settings = new Dictionary<string, string> { ["GrpcPort"] = port.ToString() };
        try
        {
            string taskId;
            string instanceId;
            await using (TestServer before = await TestServer.StartAsync(settings, dataDir))
            {
                using GraphQLClient graphql = before.GraphQL();
                string serviceId = SkyWalkingIds.ServiceId("go-service");
                instanceId = SkyWalkingIds.InstanceId(serviceId, "provider1");
                taskId = await graphql.CreateTaskAsync(serviceId, [instanceId], "HEAP");
            }

            AgentOptions options = Options(new Uri($"http://127.0.0.1:{port}"));
            using var client = new AgentClient(options, NullLogger.Instance);
            using var runner = new TaskRunner(client, new HeldSource(released: true), options, NullLogger.Instance);
            Task delivering = runner.RunAsync(Command(taskId, "heap"), CancellationToken.None);
            await Task.Delay(1500);
            Assert.False(delivering.IsCompleted, "the runner gave up while the server was down");

            await using TestServer after = await TestServer.StartAsync(settings, dataDir);
            await delivering;
            using GraphQLClient again = after.GraphQL();
            Assert.Equal("FINISHED", (string?)(await again.ProgressAsync(taskId))["instances"]![0]!["state"]);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDir, recursive: true);
        }
    });

    private static AgentOptions Options(Uri server) => new()
    {
        Servers = [$"{server.Host}:{server.Port}"],
        Service = "go-service",
        Instance = "provider1",
        UploadAttempts = 5,
    };

    private static PprofCommand Command(string taskId, string e) =>
        new(Guid.NewGuid().ToString(), taskId, e, e == "cpu" ? 1 : 0, long.Parse(taskId.Split('_')[0]), 0);

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Returns the real CPU profile of testdata, once the test releases it.</summary>
    private sealed class HeldSource(bool released = false) : IProfileSource
    {
        private int _calls;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = NewRelease(released);

        public int Calls => _calls;

        public async Task<CollectedProfile> CollectAsync(PprofCommand task, TimeSpan profilingTime, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            Started.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return CollectedProfile.Of(TestData.Bytes(task.Event == "cpu" ? "cpu" : "heap"));
        }

        private static TaskCompletionSource NewRelease(bool released)
        {
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (released)
            {
                release.SetResult();
            }

            return release;
        }
    }
}
