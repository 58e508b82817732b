using System.Text.Json.Nodes;
using Flamewright.Server.Tasks;

namespace Flamewright.EndToEnd.Tests;

/// <summary>
/// Real processes only: the Go demo service (testdata/demo), <c>flamewright server</c> and <c>flamewright agent</c>
/// pointed at both, tasks created through GraphQL, results checked against <c>go tool pprof</c> on the bytes
/// downloaded from the server.
/// </summary>
public sealed class AgentEndToEndTests
{
    private static readonly TimeSpan TaskTimeout = TimeSpan.FromSeconds(90);

    public static TheoryData<string, string, string> Events => new()
    {
        // event, the sample type its analysis uses, a demo function that must show in it
        { "CPU", "cpu", "main.burnCPU" },
        { "HEAP", "inuse_space", "main.allocate" },
        { "ALLOCS", "alloc_space", "main.allocate" },
        { "GOROUTINE", "goroutine", "main.parked" },
        { "BLOCK", "delay", "main.waitOnChannel" },
        { "MUTEX", "delay", "main.contend" },
    };

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Every_event_runs_against_a_real_Go_service_and_its_shares_equal_go_tool_pprofs() => Spec.Run(async () =>
    {
        using DemoService demo = DemoService.Start();
        using ServerProcess server = await ServerProcess.StartAsync();
        using AgentProcess agent = AgentProcess.Start($"127.0.0.1:{server.GrpcPort}", "demo", "demo-1", demo.Address);
        using var graph = new GraphQLClient(server.HttpAddress);
        string serviceId = SkyWalkingIds.ServiceId("demo");
        string instanceId = SkyWalkingIds.InstanceId(serviceId, "demo-1");

        var tasks = new List<(string Event, string SampleType, string Function, string TaskId)>();
        foreach (object[] row in Events)
        {
            string e = (string)row[0];
            bool timed = e is "CPU" or "BLOCK" or "MUTEX";
            string id = await graph.CreateTaskAsync(serviceId, instanceId, e, timed ? 1 : null, e is "BLOCK" or "MUTEX" ? 1 : null);
            tasks.Add((e, (string)row[1], (string)row[2], id));
        }

        foreach ((string e, string sampleType, string function, string taskId) in tasks)
        {
            JsonNode instance = Assert.Single(await graph.WaitAsync(taskId, TaskTimeout))!;
            Assert.True((string?)instance["state"] == "FINISHED", $"{e}: {instance.ToJsonString()}\nagent:\n{agent.Output}");

            JsonNode top = (await graph.DataAsync(
                "query ($r: PprofAnalyzationRequest!) { queryPprofTop(request: $r, limit: 0) { sampleType { type } rows { name cumPercent } } }",
                new { r = new { taskId, instanceIds = new[] { instanceId } } }))["queryPprofTop"]!;
            Assert.Equal(sampleType, (string?)top["sampleType"]!["type"]);
            JsonNode? ours = top["rows"]!.AsArray().FirstOrDefault(r => (string?)r!["name"] == function);
            Assert.True(ours is not null, $"{e}: {function} is not in the analysis");

            string file = Path.Combine(server.DataDir, $"{e}.pb.gz");
            await File.WriteAllBytesAsync(file, await graph.DownloadAsync(taskId));
            Dictionary<string, string> pprof = GoPprof.CumPercents(file, sampleType);
            Assert.True(pprof.ContainsKey(function), $"{e}: go tool pprof does not list {function}");
            Assert.Equal(pprof[function], GoPprof.Percent((double)ours!["cumPercent"]!));
        }

        // The CPU hog is where the CPU went: from the root, the widest child at every level leads to it.
        string cpuTask = tasks.Single(t => t.Event == "CPU").TaskId;
        JsonArray elements = (await graph.DataAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id parentId codeSignature total } } } }",
            new { r = new { taskId = cpuTask, instanceIds = new[] { instanceId } } }))["queryPprofAnalyze"]!["tree"]!["elements"]!.AsArray();
        string node = "0";
        var path = new List<string>();
        for (int depth = 0; depth < 16 && !path.Contains("main.burnCPU"); depth++)
        {
            JsonNode? widest = elements.Where(x => (string?)x!["parentId"] == node).MaxBy(x => (long)x!["total"]!);
            Assert.True(widest is not null, "the widest path ends before main.burnCPU: " + string.Join(" → ", path));
            node = (string)widest!["id"]!;
            path.Add((string)widest["codeSignature"]!);
        }

        Assert.Contains("main.burnCPU", path);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_target_that_is_down_fails_the_task_with_the_reason_shown_by_task_progress() => Spec.Run(async () =>
    {
        using ServerProcess server = await ServerProcess.StartAsync();
        var nobody = new Uri($"http://127.0.0.1:{ServerProcess.FreePort()}");
        using AgentProcess agent = AgentProcess.Start($"127.0.0.1:{server.GrpcPort}", "demo", "demo-1", nobody);
        using var graph = new GraphQLClient(server.HttpAddress);
        string serviceId = SkyWalkingIds.ServiceId("demo");

        string taskId = await graph.CreateTaskAsync(serviceId, SkyWalkingIds.InstanceId(serviceId, "demo-1"), "HEAP");
        JsonNode instance = Assert.Single(await graph.WaitAsync(taskId, TaskTimeout))!;

        Assert.Equal("FAILED", (string?)instance["state"]);
        CliResult progress = FlamewrightProcess.Run(["task", "progress", taskId, "--server", server.HttpAddress]);
        Assert.Equal(0, progress.ExitCode);
        Assert.Contains($"the target {nobody} is unreachable", progress.Text);
        Assert.Contains("EXECUTION_TASK_ERROR", progress.Text);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Block_profiling_not_enabled_in_the_service_fails_the_task_saying_how_to_enable_it() => Spec.Run(async () =>
    {
        using DemoService demo = DemoService.Start("-block-rate", "0", "-mutex-fraction", "0", "-cpu-goroutines", "0");
        using ServerProcess server = await ServerProcess.StartAsync();
        using AgentProcess agent = AgentProcess.Start($"127.0.0.1:{server.GrpcPort}", "demo", "demo-1", demo.Address);
        using var graph = new GraphQLClient(server.HttpAddress);
        string serviceId = SkyWalkingIds.ServiceId("demo");

        string taskId = await graph.CreateTaskAsync(serviceId, SkyWalkingIds.InstanceId(serviceId, "demo-1"), "BLOCK", 1, 1);
        JsonNode instance = Assert.Single(await graph.WaitAsync(taskId, TaskTimeout))!;

        Assert.Equal("FAILED", (string?)instance["state"]);
        Assert.Contains("block profiling is not enabled in the service; call runtime.SetBlockProfileRate", (string?)instance["reason"]);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task After_the_server_restarts_the_agent_reconnects_and_the_next_task_still_runs() => Spec.Run(async () =>
    {
        using DemoService demo = DemoService.Start("-cpu-goroutines", "0");
        int grpc = ServerProcess.FreePort();
        int http = ServerProcess.FreePort();
        string dataDir = Directory.CreateTempSubdirectory("flamewright-restart-").FullName;
        try
        {
            string serviceId = SkyWalkingIds.ServiceId("demo");
            string instanceId = SkyWalkingIds.InstanceId(serviceId, "demo-1");
            using AgentProcess agent = AgentProcess.Start($"127.0.0.1:{grpc}", "demo", "demo-1", demo.Address);
            using (ServerProcess first = await ServerProcess.StartOnAsync(grpc, http, dataDir))
            {
                using var graph = new GraphQLClient(first.HttpAddress);
                string before = await graph.CreateTaskAsync(serviceId, instanceId, "HEAP");
                Assert.Equal("FINISHED", (string?)Assert.Single(await graph.WaitAsync(before, TaskTimeout))!["state"]);
                Assert.Equal(0, first.Terminate());
            }

            // The agent polls a server that is gone for a while, then the server comes back on the same address.
            await Task.Delay(1500);
            using ServerProcess second = await ServerProcess.StartOnAsync(grpc, http, dataDir);
            using var again = new GraphQLClient(second.HttpAddress);
            string after = await again.CreateTaskAsync(serviceId, instanceId, "GOROUTINE");
            JsonNode instance = Assert.Single(await again.WaitAsync(after, TaskTimeout))!;
            Assert.True((string?)instance["state"] == "FINISHED", $"{instance.ToJsonString()}\nagent:\n{agent.Output}");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task An_agent_given_several_servers_fails_over_from_one_that_is_down() => Spec.Run(async () =>
    {
        using DemoService demo = DemoService.Start("-cpu-goroutines", "0");
        using ServerProcess server = await ServerProcess.StartAsync();
        int down = ServerProcess.FreePort();
        using AgentProcess agent = AgentProcess.Start($"127.0.0.1:{down},127.0.0.1:{server.GrpcPort}", "demo", "demo-1", demo.Address);
        using var graph = new GraphQLClient(server.HttpAddress);
        string serviceId = SkyWalkingIds.ServiceId("demo");

        string taskId = await graph.CreateTaskAsync(serviceId, SkyWalkingIds.InstanceId(serviceId, "demo-1"), "GOROUTINE");
        JsonNode instance = Assert.Single(await graph.WaitAsync(taskId, TaskTimeout))!;

        Assert.True((string?)instance["state"] == "FINISHED", $"{instance.ToJsonString()}\nagent:\n{agent.Output}");
        Assert.Contains($"Server 127.0.0.1:{down} unreachable", agent.Output);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Two_CPU_profiles_of_one_Go_process_at_once_the_second_fails_with_its_reason() => Spec.Run(async () =>
    {
        using DemoService demo = DemoService.Start();
        using ServerProcess server = await ServerProcess.StartAsync();
        using AgentProcess first = AgentProcess.Start($"127.0.0.1:{server.GrpcPort}", "demo-a", "one", demo.Address);
        using AgentProcess second = AgentProcess.Start($"127.0.0.1:{server.GrpcPort}", "demo-b", "one", demo.Address);
        using var graph = new GraphQLClient(server.HttpAddress);

        string a = await graph.CreateTaskAsync(SkyWalkingIds.ServiceId("demo-a"), SkyWalkingIds.InstanceId(SkyWalkingIds.ServiceId("demo-a"), "one"), "CPU", 1);
        string b = await graph.CreateTaskAsync(SkyWalkingIds.ServiceId("demo-b"), SkyWalkingIds.InstanceId(SkyWalkingIds.ServiceId("demo-b"), "one"), "CPU", 1);
        JsonNode[] results = [Assert.Single(await graph.WaitAsync(a, TaskTimeout))!, Assert.Single(await graph.WaitAsync(b, TaskTimeout))!];

        Assert.Single(results, r => (string?)r["state"] == "FINISHED");
        JsonNode failed = Assert.Single(results, r => (string?)r["state"] == "FAILED");
        Assert.Contains("cpu profiling already in use", (string?)failed["reason"]);
    });
}
