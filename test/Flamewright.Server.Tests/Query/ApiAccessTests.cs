using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Flamewright.Server.Tests.Query;

/// <summary>The API tokens on the HTTP port, and the bounds every GraphQL request meets.</summary>
public sealed class ApiAccessTests
{
    private const string Full = "full-token-8c1e";
    private const string Viewer = "viewer-token-51a0";
    private const string Services = "{ listServices(layer: \"GENERAL\") { id name } }";

    private static Dictionary<string, string> Tokens => new() { ["ApiToken"] = Full, ["ReadOnlyApiToken"] = Viewer };

    [Fact(Timeout = Spec.Timeout)]
    public Task With_a_token_set_GraphQL_and_downloads_need_it_and_the_UI_files_and_health_check_do_not() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(Tokens);
        using var anonymous = new HttpClient { BaseAddress = server.HttpAddress };

        using HttpResponseMessage graphql = await anonymous.PostAsync("/graphql", new StringContent($$"""{"query":"{{Services.Replace("\"", "\\\"")}}"}""", Encoding.UTF8, "application/json"));
        using HttpResponseMessage download = await anonymous.GetAsync("/api/tasks/1_x/profile");
        using HttpResponseMessage page = await anonymous.GetAsync("/");
        using HttpResponseMessage health = await anonymous.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.Unauthorized, graphql.StatusCode);
        Assert.Equal("Bearer realm=\"flamewright\"", graphql.Headers.WwwAuthenticate.ToString());
        Assert.Equal("this server needs an API token: send Authorization: Bearer TOKEN",
            (string?)JsonNode.Parse(await graphql.Content.ReadAsStringAsync())!["errors"]![0]!["message"]);
        Assert.Equal(HttpStatusCode.Unauthorized, download.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_full_token_creates_tasks_as_bearer_or_as_basic_password_and_a_wrong_one_is_refused_and_never_logged() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(Tokens);
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        using GraphQLClient bearer = server.GraphQL().WithToken(Full);
        using var basic = new HttpClient { BaseAddress = server.HttpAddress };
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("swctl:" + Full)));
        using var wrong = new HttpClient { BaseAddress = server.HttpAddress };
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Full + "x");

        string taskId = await bearer.CreateTaskAsync(agent.ServiceId, [agent.InstanceId], "HEAP");
        using HttpResponseMessage asBasic = await basic.GetAsync("/api/access");
        using HttpResponseMessage refused = await wrong.GetAsync("/api/access");

        Assert.StartsWith(Convert.ToString(server.Clock.GetUtcNow().ToUnixTimeMilliseconds()), taskId);
        Assert.Equal("""{"access":"full"}""", await asBasic.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains(server.Logs.Entries, e => e.Message.Contains("Refused /api/access: a wrong token from", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Entries, e => e.Message.Contains(Full, StringComparison.Ordinal) || e.Message.Contains(Viewer, StringComparison.Ordinal));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_read_only_token_queries_and_downloads_but_cannot_create_a_task() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(Tokens);
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient full = server.GraphQL().WithToken(Full);
        using GraphQLClient viewer = server.GraphQL().WithToken(Viewer);
        string taskId = await full.TaskWithUploadsAsync("HEAP", (agent, TestData.Bytes("heap")));

        string refusal = await viewer.ErrorAsync(
            "mutation ($r: PprofTaskCreationRequest!) { createPprofTask(pprofTaskCreationRequest: $r) { code } }",
            new { r = new { serviceId = agent.ServiceId, serviceInstanceIds = new[] { agent.InstanceId }, events = "ALLOCS" } });

        Assert.Equal("this API token is read-only: it can query, not create tasks or change dashboards", refusal);
        Assert.Single(await viewer.TasksAsync(agent.ServiceId));
        Assert.Equal(Engine.Total(TestData.Bytes("heap"), "inuse_space"), await viewer.AnalyzedTotalAsync(taskId));
        using HttpResponseMessage download = await viewer.Http.GetAsync($"/api/tasks/{taskId}/profile?format=folded");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("""{"access":"read-only"}""", await viewer.Http.GetStringAsync("/api/access"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task With_only_the_read_only_token_set_every_caller_needs_it_and_nobody_can_create_a_task() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { ["ReadOnlyApiToken"] = Viewer });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        using var anonymous = new HttpClient { BaseAddress = server.HttpAddress };
        using GraphQLClient viewer = server.GraphQL().WithToken(Viewer);

        using HttpResponseMessage refused = await anonymous.GetAsync("/api/access");
        string refusal = await viewer.ErrorAsync(
            "mutation ($r: PprofTaskCreationRequest!) { createPprofTask(pprofTaskCreationRequest: $r) { code } }",
            new { r = new { serviceId = agent.ServiceId, serviceInstanceIds = new[] { agent.InstanceId }, events = "CPU", duration = 1 } });

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("""{"access":"read-only"}""", await viewer.Http.GetStringAsync("/api/access"));
        Assert.Equal("this API token is read-only: it can query, not create tasks or change dashboards", refusal);
        Assert.Empty(await viewer.TasksAsync(agent.ServiceId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_body_over_MaxRequestBodyBytes_is_refused_with_413_naming_the_setting_and_the_next_request_is_served() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { ["MaxRequestBodyBytes"] = "2000" });
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        string padded = "{\"query\":\"{ listLayers }\",\"variables\":{\"pad\":\"" + new string('x', 5000) + "\"}}";

        using HttpResponseMessage tooLarge = await http.PostAsync("/graphql", new StringContent(padded, Encoding.UTF8, "application/json"));
        using HttpResponseMessage next = await http.PostAsync("/graphql", new StringContent("""{"query":"{ listLayers }"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal("the request body is larger than 2000 bytes (MaxRequestBodyBytes)",
            (string?)JsonNode.Parse(await tooLarge.Content.ReadAsStringAsync())!["errors"]![0]!["message"]);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.NotNull(JsonNode.Parse(await next.Content.ReadAsStringAsync())!["data"]!["listLayers"]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_query_nested_deeper_than_the_limit_is_refused_before_it_runs_and_introspection_still_works() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { ["GraphQLMaxDepth"] = "6" });
        using GraphQLClient graphql = server.GraphQL();

        string refused = await graphql.ErrorAsync("{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }");
        JsonNode allowed = await graphql.PostAsync("{ __schema { types { name fields { name } } } }");

        Assert.Contains("depth", refused, StringComparison.OrdinalIgnoreCase);
        Assert.Null(allowed["errors"]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Asking_for_dozens_of_analyses_in_one_request_is_refused_and_the_UIs_heaviest_request_is_not() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, TestData.Bytes("heap")));
        string aliases = string.Concat(Enumerable.Range(0, 30).Select(i => $"a{i}: queryPprofAnalyze(request: $r) {{ tree {{ elements {{ id total }} }} }} "));

        string refused = await graphql.ErrorAsync($"query ($r: PprofAnalyzationRequest!) {{ {aliases} }}", new { r = new { taskId, instanceIds = Array.Empty<string>() } });
        JsonNode page = await graphql.PostAsync("""
            query ($r: PprofAnalyzationRequest!, $b: PprofAnalyzationRequest!) {
              queryPprofAnalyze(request: $r) { tree { elements { id parentId codeSignature total self } } sampleType { type unit } }
              queryPprofTop(request: $r, limit: 0) { rows { name flat flatPercent cum cumPercent } }
              queryPprofDiff(base: $b, target: $r) { elements { id parentId codeSignature baseTotal baseSelf targetTotal targetSelf } }
            }
            """, new { r = new { taskId, instanceIds = Array.Empty<string>() }, b = new { taskId, instanceIds = Array.Empty<string>() } });

        Assert.Contains("complexity", refused, StringComparison.OrdinalIgnoreCase);
        Assert.Null(page["errors"]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_task_naming_more_instances_than_allowed_is_refused_and_lists_stop_at_their_limit() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { ["MaxInstancesPerTask"] = "2", ["MaxListItems"] = "2" });
        GoLikeAgent[] agents = [.. Enumerable.Range(1, 3).Select(i => server.Agent("go-service", $"provider{i}"))];
        using GraphQLClient graphql = server.GraphQL();
        try
        {
            foreach (GoLikeAgent agent in agents)
            {
                await agent.RegisterAsync();
            }

            JsonNode tooMany = await graphql.CreateTaskResultAsync(agents[0].ServiceId, agents.Select(a => a.InstanceId), "HEAP");
            for (int i = 0; i < 3; i++)
            {
                await graphql.CreateTaskAsync(agents[0].ServiceId, [agents[0].InstanceId], "HEAP");
                server.Clock.Advance(TimeSpan.FromSeconds(1));
            }

            Assert.Equal(("ARGUMENT_ERROR", "serviceInstanceIds cannot name more than 2 instances"), ((string?)tooMany["code"], (string?)tooMany["errorReason"]));
            JsonNode listed = await graphql.DataAsync("query ($r: PprofTaskListRequest!) { queryPprofTaskList(request: $r) { tasks { id } } }",
                new { r = new { serviceId = agents[0].ServiceId, limit = 50 } });
            Assert.Equal(2, listed["queryPprofTaskList"]!["tasks"]!.AsArray().Count);
        }
        finally
        {
            Array.ForEach(agents, a => a.Dispose());
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_same_value_for_both_tokens_is_refused_at_start_since_a_viewer_could_create_tasks() => Spec.Run(() =>
    {
        var same = new Dictionary<string, (string, string)> { ["ApiToken"] = ("tok-77", "test"), ["ReadOnlyApiToken"] = ("tok-77", "test") };

        var refused = Assert.Throws<Flamewright.Server.Configuration.SettingsException>(() =>
            Flamewright.Server.Configuration.ServerSettings.Load(same, null, new System.Collections.Hashtable()));

        Assert.Equal("ApiToken and ReadOnlyApiToken are the same: a viewer could create tasks", refused.Message);
        Assert.DoesNotContain("tok-77", refused.Message);
    });
}
