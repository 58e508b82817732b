using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Flamewright.Pprof.Analysis;

namespace Flamewright.Server.Tests.Query;

/// <summary>
/// The documents swctl and the SkyWalking UI send for pprof, written as the wire doc's field lists imply
/// (named operations, variables, only SkyWalking's fields), work unchanged; and what goes wrong is said clearly.
/// </summary>
public sealed class GraphQLDocumentTests
{
    private const string CreateDocument = """
        mutation createPprofTask($request: PprofTaskCreationRequest!) {
          createPprofTask(pprofTaskCreationRequest: $request) { id code errorReason }
        }
        """;

    private const string ListDocument = """
        query queryPprofTaskList($request: PprofTaskListRequest!) {
          queryPprofTaskList(request: $request) {
            errorReason
            tasks { id serviceId serviceInstanceIds createTime events duration dumpPeriod }
          }
        }
        """;

    private const string ProgressDocument = """
        query queryPprofTaskProgress($taskId: String!) {
          queryPprofTaskProgress(taskId: $taskId) {
            logs { id instanceId instanceName operationType operationTime }
            errorInstanceIds
            successInstanceIds
          }
        }
        """;

    private const string AnalyzeDocument = """
        query queryPprofAnalyze($request: PprofAnalyzationRequest!) {
          queryPprofAnalyze(request: $request) {
            tree { elements { id parentId codeSignature total self } }
          }
        }
        """;

    [Fact(Timeout = Spec.Timeout)]
    public Task The_UI_and_swctl_documents_create_list_follow_and_analyse_a_task_unchanged() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GoLikeAgent silent = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync();
        await silent.RegisterAsync();
        long createTime = server.Clock.NowMilliseconds;

        JsonNode created = (await graphql.DataAsync(CreateDocument, new
        {
            request = new { serviceId = agent.ServiceId, serviceInstanceIds = new[] { agent.InstanceId, silent.InstanceId }, duration = 1, events = "CPU" },
        }))["createPprofTask"]!;
        string taskId = (string)created["id"]!;
        Assert.Equal($$"""{"id":"{{taskId}}","code":"SUCCESS","errorReason":null}""", created.ToJsonString());
        await agent.PollAsync();
        byte[] profile = TestData.Bytes("cpu");
        await agent.UploadAsync(taskId, profile);

        JsonNode list = (await graphql.DataAsync(ListDocument, new
        {
            request = new { serviceId = agent.ServiceId, queryDuration = server.Clock.LastMinutes(TimeSpan.FromMinutes(30)) },
        }))["queryPprofTaskList"]!;
        Assert.Equal(
            $$"""{"errorReason":null,"tasks":[{"id":"{{taskId}}","serviceId":"{{agent.ServiceId}}","serviceInstanceIds":["{{agent.InstanceId}}","{{silent.InstanceId}}"],"createTime":{{createTime}},"events":"CPU","duration":1,"dumpPeriod":null}]}""",
            list.ToJsonString());

        JsonNode progress = (await graphql.DataAsync(ProgressDocument, new { taskId }))["queryPprofTaskProgress"]!;
        Assert.Equal(
            $$"""
            {"logs":[{"id":"{{taskId}}","instanceId":"{{agent.InstanceId}}","instanceName":"provider1","operationType":"NOTIFIED","operationTime":{{createTime}}},{"id":"{{taskId}}","instanceId":"{{agent.InstanceId}}","instanceName":"provider1","operationType":"EXECUTION_FINISHED","operationTime":{{createTime}}}],"errorInstanceIds":[],"successInstanceIds":["{{agent.InstanceId}}"]}
            """,
            progress.ToJsonString());

        // The UI sends every instance of the task; one that uploaded nothing is left out, not an error.
        JsonNode analysis = (await graphql.DataAsync(AnalyzeDocument, new
        {
            request = new { taskId, instanceIds = new[] { agent.InstanceId, silent.InstanceId } },
        }))["queryPprofAnalyze"]!;
        Assert.Equal(Engine.ElementsJson(Engine.Tree(new FlameOptions { SampleType = "cpu" }, profile)), analysis["tree"]!["elements"]!.ToJsonString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_task_list_returns_the_tasks_created_inside_queryDuration_newest_first() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        const string Service = "Z28tc2VydmljZQ==.1";
        string[] instance = ["Z28tc2VydmljZQ==.1_cHJvdmlkZXIx"];
        string old = await graphql.CreateTaskAsync(Service, instance, "HEAP");
        server.Clock.Advance(TimeSpan.FromHours(2));
        string recent = await graphql.CreateTaskAsync(Service, instance, "HEAP");
        server.Clock.Advance(TimeSpan.FromMinutes(1));
        string newest = await graphql.CreateTaskAsync(Service, instance, "GOROUTINE");

        Assert.Equal([newest, recent], await ListAsync(server.Clock.LastMinutes(TimeSpan.FromMinutes(30))));
        Assert.Equal([newest, recent, old], await ListAsync(null));
        Assert.Equal([newest], await ListAsync(null, limit: 1));

        async Task<string[]> ListAsync(object? queryDuration, int? limit = null) =>
            [.. (await graphql.DataAsync(ListDocument, new { request = new { serviceId = Service, queryDuration, limit } }))["queryPprofTaskList"]!["tasks"]!
                .AsArray().Select(t => (string)t!["id"]!)];
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_queryDuration_ends_where_its_last_step_ends_not_a_millisecond_later() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(clock: new ManualClock(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero)));
        using GraphQLClient graphql = server.GraphQL();
        const string Service = "Z28tc2VydmljZQ==.1";
        string taskId = await graphql.CreateTaskAsync(Service, ["Z28tc2VydmljZQ==.1_cHJvdmlkZXIx"], "HEAP");

        Assert.Empty(await ListAsync("2026-11-25 1159", "2026-11-25 1159"));
        Assert.Equal([taskId], await ListAsync("2026-11-25 1159", "2026-11-25 1200"));
        Assert.Equal([taskId], await ListAsync("2026-11-25 1200", "2026-11-25 1200"));

        async Task<string[]> ListAsync(string start, string end) =>
            [.. (await graphql.DataAsync(ListDocument, new { request = new { serviceId = Service, queryDuration = new { start, end, step = "MINUTE" } } }))
                ["queryPprofTaskList"]!["tasks"]!.AsArray().Select(t => (string)t!["id"]!)];
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Every_Duration_step_is_read_in_its_own_format_and_a_wrong_one_is_an_errorReason() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        const string Service = "Z28tc2VydmljZQ==.1";
        string taskId = await graphql.CreateTaskAsync(Service, ["Z28tc2VydmljZQ==.1_cHJvdmlkZXIx"], "HEAP");
        DateTime now = server.Clock.GetUtcNow().UtcDateTime;

        foreach ((string step, string format) in new[] { ("DAY", "yyyy-MM-dd"), ("HOUR", "yyyy-MM-dd HH"), ("MINUTE", "yyyy-MM-dd HHmm"), ("SECOND", "yyyy-MM-dd HHmmss") })
        {
            string at = now.ToString(format, CultureInfo.InvariantCulture);
            JsonNode list = await ListAsync(new { start = at, end = at, step });
            Assert.True(list["errorReason"] is null && list["tasks"]!.AsArray().Count == 1 && (string?)list["tasks"]![0]!["id"] == taskId, $"{step} {at}: {list.ToJsonString()}");
        }

        JsonNode wrong = await ListAsync(new { start = "yesterday", end = "today", step = "DAY" });
        Assert.Equal("duration start 'yesterday' does not match 'yyyy-MM-dd'", (string?)wrong["errorReason"]);
        Assert.Null(wrong["tasks"]);

        async Task<JsonNode> ListAsync(object queryDuration) =>
            (await graphql.DataAsync(ListDocument, new { request = new { serviceId = Service, queryDuration } }))["queryPprofTaskList"]!;
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task GetTimeInfo_gives_the_servers_time_zone_and_clock() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        server.Clock.Advance(TimeSpan.FromMinutes(3));

        JsonNode time = (await graphql.DataAsync("query getTimeInfo { getTimeInfo { timezone currentTimestamp } }"))["getTimeInfo"]!;

        Assert.Equal("+0000", (string?)time["timezone"]);
        Assert.Equal(server.Clock.NowMilliseconds, (long?)time["currentTimestamp"]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_body_that_is_not_a_GraphQL_request_is_a_400_with_a_one_line_error() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        foreach (string body in new[] { "{\"query\": ", "not json at all", "[1, 2]", "{}", "{\"query\": \"  \"}" })
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using HttpResponseMessage response = await graphql.Http.PostAsync("/graphql", content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            JsonNode answer = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
            string message = (string)answer["errors"]![0]!["message"]!;
            Assert.False(string.IsNullOrWhiteSpace(message) || message.Contains('\n'), $"body {body}: '{message}' is not one line");
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_unknown_task_is_a_GraphQL_error_naming_it() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        const string Unknown = "1700000000000_Z28tc2VydmljZQ==.1";

        string progress = await graphql.ErrorAsync(ProgressDocument, new { taskId = Unknown });
        string analysis = await graphql.ErrorAsync(AnalyzeDocument, new { request = new { taskId = Unknown, instanceIds = Array.Empty<string>() } });

        Assert.Equal($"unknown task '{Unknown}'", progress);
        Assert.Equal($"unknown task '{Unknown}'", analysis);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_document_that_breaks_the_schema_is_a_GraphQL_error() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        string unknownField = await graphql.ErrorAsync("{ getTimeInfo { timezone leapSeconds } }");
        string wrongEnum = await graphql.ErrorAsync(CreateDocument, new
        {
            request = new { serviceId = "Z28tc2VydmljZQ==.1", serviceInstanceIds = new[] { "Z28tc2VydmljZQ==.1_cHJvdmlkZXIx" }, events = "SLEEP" },
        });

        Assert.Contains("leapSeconds", unknownField);
        Assert.Contains("SLEEP", wrongEnum);
    });
}
