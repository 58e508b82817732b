using System.Text.Json.Nodes;
using Flamewright.Server.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace Flamewright.Server.Tests.Tasks;

/// <summary>createPprofTask: SkyWalking's rules and words (docs/server.md), and ours on top.</summary>
public sealed class TaskCreationTests
{
    private const string Service = "Z28tc2VydmljZQ==.1";
    private const string Instance = "Z28tc2VydmljZQ==.1_cHJvdmlkZXIx";

    private static readonly string[] None = [];
    private static readonly string[] One = [Instance];

    /// <summary>Each request breaks the rule named by its answer and, where it can, every rule after it too.</summary>
    private static readonly (string Service, string[] Instances, string Events, int? Duration, int? DumpPeriod, string Reason)[] s_broken =
    [
        ("", None, "BLOCK", 0, 0, "service cannot be null"),
        ("   ", None, "CPU", 16, null, "service cannot be null"),
        (Service, None, "CPU", null, null, "duration cannot be negative"),
        (Service, None, "CPU", 0, null, "duration cannot be negative"),
        (Service, None, "CPU", -3, null, "duration cannot be negative"),
        (Service, None, "CPU", 16, null, "duration cannot be greater than 15 minutes"),
        (Service, None, "BLOCK", 0, 0, "duration cannot be negative"),
        (Service, None, "MUTEX", 16, 0, "duration cannot be greater than 15 minutes"),
        (Service, None, "BLOCK", 1, null, "dumpPeriod cannot be negative"),
        (Service, None, "BLOCK", 15, 0, "dumpPeriod cannot be negative"),
        (Service, None, "MUTEX", 1, -1, "dumpPeriod cannot be negative"),
        (Service, None, "CPU", 15, 0, "serviceInstanceIds cannot be empty"),
        (Service, None, "MUTEX", 1, 1, "serviceInstanceIds cannot be empty"),
        (Service, None, "HEAP", -1, -1, "serviceInstanceIds cannot be empty"),
        (Service, None, "ALLOCS", 99, null, "serviceInstanceIds cannot be empty"),
        (Service, None, "GOROUTINE", null, null, "serviceInstanceIds cannot be empty"),
        (Service, None, "THREADCREATE", 0, 0, "serviceInstanceIds cannot be empty"),
    ];

    [Fact(Timeout = Spec.Timeout)]
    public Task Each_creation_rule_refuses_in_SkyWalkings_words_and_the_first_broken_rule_wins() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        foreach ((string service, string[] instances, string events, int? duration, int? dumpPeriod, string reason) in s_broken)
        {
            JsonNode result = await graphql.CreateTaskResultAsync(service, instances, events, duration, dumpPeriod);
            string request = $"service '{service}', {instances.Length} instance(s), {events}, duration {duration}, dumpPeriod {dumpPeriod}";
            Assert.True(
                (string?)result["code"] == "ARGUMENT_ERROR" && (string?)result["errorReason"] == reason && result["id"] is null,
                $"{request}: expected ARGUMENT_ERROR '{reason}', got {result.ToJsonString()}");
        }

        Assert.Empty(await graphql.TasksAsync(Service));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_smallest_and_largest_valid_requests_are_accepted() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        await graphql.CreateTaskAsync(Service, One, "CPU", duration: 15);
        await graphql.CreateTaskAsync(Service, One, "BLOCK", duration: 1, dumpPeriod: 1);
        await graphql.CreateTaskAsync(Service, One, "MUTEX", duration: 15, dumpPeriod: 1);
        await graphql.CreateTaskAsync(Service, One, "HEAP");

        Assert.Equal(4, (await graphql.TasksAsync(Service)).Count);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_request_without_an_event_is_refused_by_the_schema_and_by_the_rules() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        // The schema makes events required, so GraphQL refuses before any rule runs ...
        string error = await graphql.ErrorAsync(
            "mutation ($r: PprofTaskCreationRequest!) { createPprofTask(pprofTaskCreationRequest: $r) { code } }",
            new { r = new { serviceId = Service, serviceInstanceIds = One } });
        Assert.Contains("events", error);

        // ... and the rule behind it answers in SkyWalking's words for any other caller of the task service.
        TaskService tasks = server.Server.Services.GetRequiredService<TaskService>();
        TaskCreationResult result = await tasks.CreateAsync(new TaskCreationRequest(Service, None, null, 0, 0), CancellationToken.None);
        Assert.Equal((TaskCreationCode.ARGUMENT_ERROR, "events cannot be empty"), (result.Code, result.ErrorReason));
        result = await tasks.CreateAsync(new TaskCreationRequest(null, null, null, null, null), CancellationToken.None);
        Assert.Equal((TaskCreationCode.ARGUMENT_ERROR, "service cannot be null"), (result.Code, result.ErrorReason));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Ids_that_could_never_be_dispatched_are_refused_instead_of_waiting_forever() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        string otherServicesInstance = "b3RoZXI=.1_cHJvdmlkZXIx";

        JsonNode foreign = await graphql.CreateTaskResultAsync(Service, [Instance, otherServicesInstance], "HEAP");
        JsonNode garbage = await graphql.CreateTaskResultAsync(Service, ["provider1"], "HEAP");
        JsonNode notAService = await graphql.CreateTaskResultAsync("go-service", ["go-service_cHJvdmlkZXIx"], "HEAP");

        Assert.Equal("ARGUMENT_ERROR", (string?)foreign["code"]);
        Assert.Equal($"serviceInstanceIds: '{otherServicesInstance}' is not an instance of service '{Service}'", (string?)foreign["errorReason"]);
        Assert.Equal($"serviceInstanceIds: 'provider1' is not an instance of service '{Service}'", (string?)garbage["errorReason"]);
        Assert.Equal("serviceId 'go-service' is not a service id", (string?)notAService["errorReason"]);
        Assert.Empty(await graphql.TasksAsync(Service));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_service_already_profiling_an_event_refuses_the_same_event_until_the_duration_passed() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        const string Sibling = "Z28tc2VydmljZQ==.1_cHJvdmlkZXIy";
        await graphql.CreateTaskAsync(Service, One, "CPU", duration: 5);

        server.Clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        JsonNode again = await graphql.CreateTaskResultAsync(Service, One, "CPU", duration: 1);
        JsonNode otherInstances = await graphql.CreateTaskResultAsync(Service, [Sibling], "CPU", duration: 1);

        Assert.Equal("""{"code":"ALREADY_PROFILING_ERROR","errorReason":"current service already has monitor pprof task execute at this time","id":null}""", again.ToJsonString());
        Assert.Equal("ALREADY_PROFILING_ERROR", (string?)otherInstances["code"]);
        await graphql.CreateTaskAsync(Service, One, "BLOCK", duration: 1, dumpPeriod: 1);
        await graphql.CreateTaskAsync(Service, One, "HEAP");
        await graphql.CreateTaskAsync("b3RoZXI=.1", ["b3RoZXI=.1_cHJvdmlkZXIx"], "CPU", duration: 1);

        server.Clock.Advance(TimeSpan.FromSeconds(2));
        await graphql.CreateTaskAsync(Service, One, "CPU", duration: 1);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Snapshot_tasks_never_block_each_other() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        string first = await graphql.CreateTaskAsync(Service, One, "HEAP");
        string second = await graphql.CreateTaskAsync(Service, One, "HEAP");

        // Created in the same millisecond: the second moves on by one, so that ids stay unique.
        Assert.NotEqual(first, second);
        Assert.Equal([second, first], (await graphql.TasksAsync(Service)).Select(t => (string)t!["id"]!));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_created_task_has_SkyWalkings_id_and_keeps_only_the_fields_its_event_uses() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        long now = server.Clock.NowMilliseconds;
        const string Sibling = "Z28tc2VydmljZQ==.1_cHJvdmlkZXIy";

        string heap = await graphql.CreateTaskAsync(Service, [Sibling, Instance, Sibling], "HEAP", duration: 3, dumpPeriod: 7);
        server.Clock.Advance(TimeSpan.FromSeconds(1));
        string block = await graphql.CreateTaskAsync(Service, One, "BLOCK", duration: 2, dumpPeriod: 7);

        Assert.Equal($"{now}_{Service}", heap);
        JsonArray tasks = await graphql.TasksAsync(Service);
        Assert.Equal(
            $$"""{"id":"{{block}}","serviceId":"{{Service}}","serviceInstanceIds":["{{Instance}}"],"createTime":{{now + 1000}},"events":"BLOCK","duration":2,"dumpPeriod":7,"dispatchUntil":{{now + 1000 + 5 * 60_000}}}""",
            tasks[0]!.ToJsonString());
        Assert.Equal(
            $$"""{"id":"{{heap}}","serviceId":"{{Service}}","serviceInstanceIds":["{{Sibling}}","{{Instance}}"],"createTime":{{now}},"events":"HEAP","duration":null,"dumpPeriod":null,"dispatchUntil":{{now + 5 * 60_000}}}""",
            tasks[1]!.ToJsonString());
    });
}
