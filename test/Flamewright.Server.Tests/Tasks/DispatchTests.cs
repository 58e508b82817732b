using System.Text.Json.Nodes;
using Flamewright.Server.Configuration;

namespace Flamewright.Server.Tests.Tasks;

/// <summary>
/// getPprofTaskCommands: which task an agent gets on a poll (docs/server.md, "A task's life"),
/// and for how long after its creation a task is still handed out.
/// </summary>
public sealed class DispatchTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task An_agent_gets_its_tasks_oldest_first_one_per_poll() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync();
        var created = new List<(string Id, long CreateTime)>();
        foreach (string events in new[] { "HEAP", "GOROUTINE", "CPU" })
        {
            created.Add((await graphql.CreateTaskAsync(agent.ServiceId, [agent.InstanceId], events, duration: 1), server.Clock.NowMilliseconds));
            server.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        foreach ((string id, long createTime) in created)
        {
            ReceivedTask? task = await agent.PollAsync();
            Assert.Equal(id, task?.TaskId);
            Assert.Equal(createTime, task!.CreateTime);
        }

        Assert.Null(await agent.PollAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_agent_gets_only_tasks_created_after_its_lastCommandTime() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync();
        long first = server.Clock.NowMilliseconds;
        await graphql.CreateTaskAsync(agent.ServiceId, [agent.InstanceId], "HEAP");
        server.Clock.Advance(TimeSpan.FromSeconds(1));
        string second = await graphql.CreateTaskAsync(agent.ServiceId, [agent.InstanceId], "GOROUTINE");

        agent.LastCommandTime = first;
        Assert.Equal(second, (await agent.PollAsync())?.TaskId);

        agent.LastCommandTime = first + 1000;
        Assert.Null(await agent.PollAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_task_reaches_only_the_instances_it_names() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent named = server.Agent("go-service", "provider1");
        using GoLikeAgent sibling = server.Agent("go-service", "provider2");
        using GoLikeAgent namesake = server.Agent("other-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        foreach (GoLikeAgent agent in new[] { named, sibling, namesake })
        {
            await agent.RegisterAsync();
        }

        string taskId = await graphql.CreateTaskAsync(named.ServiceId, [named.InstanceId], "HEAP");

        Assert.Null(await sibling.PollAsync());
        Assert.Null(await namesake.PollAsync());
        Assert.Equal(taskId, (await named.PollAsync())?.TaskId);
        Assert.Equal(["NOTIFIED"], await graphql.OperationsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Each_delivery_writes_a_NOTIFIED_log_and_a_restarted_agent_gets_the_task_again() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        long firstDelivery = server.Clock.NowMilliseconds;
        Assert.Null(await agent.PollAsync());

        server.Clock.Advance(TimeSpan.FromSeconds(20));
        agent.Restart();
        Assert.Equal(taskId, (await agent.PollAsync())?.TaskId);

        JsonArray logs = (await graphql.ProgressAsync(taskId))["logs"]!.AsArray();
        Assert.Equal(2, logs.Count);
        Assert.All(logs, log =>
        {
            Assert.Equal(taskId, (string)log!["id"]!);
            Assert.Equal(agent.InstanceId, (string)log["instanceId"]!);
            Assert.Equal("provider1", (string)log["instanceName"]!);
            Assert.Equal("NOTIFIED", (string)log["operationType"]!);
        });
        Assert.Equal([firstDelivery, firstDelivery + 20_000], logs.Select(l => (long)l!["operationTime"]!));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_ten_minute_CPU_task_is_still_dispatched_at_minute_eight_but_not_at_minute_eleven() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent early = server.Agent("go-service", "provider1");
        using GoLikeAgent late = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        long created = server.Clock.NowMilliseconds;
        string taskId = await graphql.CreateTaskAsync(early.ServiceId, [early.InstanceId, late.InstanceId], "CPU", duration: 10);
        Assert.Equal(created + 10 * 60_000, (long)(await graphql.TasksAsync(early.ServiceId))[0]!["dispatchUntil"]!);

        server.Clock.Advance(TimeSpan.FromMinutes(8));
        Assert.Equal(taskId, (await early.PollAsync())?.TaskId);

        server.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Null(await late.PollAsync());
        early.Restart();
        Assert.Null(await early.PollAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_HEAP_task_is_dispatched_for_five_minutes_and_no_longer() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent early = server.Agent("go-service", "provider1");
        using GoLikeAgent late = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.CreateTaskAsync(early.ServiceId, [early.InstanceId, late.InstanceId], "HEAP");

        server.Clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.Equal(taskId, (await early.PollAsync())?.TaskId);

        server.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(await late.PollAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_longer_TaskDispatchMinutes_keeps_a_snapshot_task_dispatchable_longer() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.TaskDispatchMinutes)] = "20" });
        using GoLikeAgent early = server.Agent("go-service", "provider1");
        using GoLikeAgent late = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.CreateTaskAsync(early.ServiceId, [early.InstanceId, late.InstanceId], "HEAP");

        server.Clock.Advance(TimeSpan.FromMinutes(19));
        Assert.Equal(taskId, (await early.PollAsync())?.TaskId);

        server.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(await late.PollAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_shorter_TaskDispatchMinutes_shortens_a_snapshot_tasks_window_but_never_a_tasks_duration() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.TaskDispatchMinutes)] = "2" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        await graphql.CreateTaskAsync(agent.ServiceId, [agent.InstanceId], "HEAP");
        string cpu = await graphql.CreateTaskAsync(agent.ServiceId, [agent.InstanceId], "CPU", duration: 10);

        server.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(cpu, (await agent.PollAsync())?.TaskId);
        Assert.Null(await agent.PollAsync());
    });
}
