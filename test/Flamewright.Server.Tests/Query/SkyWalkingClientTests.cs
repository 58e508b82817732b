using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Flamewright.Server.Tests.Query;

/// <summary>
/// SkyWalking's web UI (booster-ui) and its CLI (swctl) against Flamewright, document by document as they send them
/// (docs/skywalking-clients.md lists each): every answer has the shape and the values SkyWalking's schema promises.
/// </summary>
public sealed partial class SkyWalkingClientTests
{
    // The web UI's documents, as its source writes them (aliases and trailing commas included).
    private const string UiMenu = "query menuItems { getMenuItems { title icon layer activate description documentLink i18nKey subItems { title icon layer activate description documentLink i18nKey } } }";
    private const string UiVersion = "query version { version }";
    private const string UiRecordsTtl = "query RecordsTTL {getRecordsTTL { normal trace zipkinTrace log browserErrorLog coldNormal coldTrace coldZipkinTrace coldLog coldBrowserErrorLog }}";
    private const string UiMetricsTtl = "query MetricsTTL {getMetricsTTL { minute hour day coldMinute coldHour coldDay }}";
    private const string UiTracesV2 = "query queryHasQueryTracesV2Support { hasQueryTracesV2Support }";
    private const string UiTemplates = "query templates { getAllTemplates { id, configuration, } }";
    private const string UiTimeInfo = "query queryOAPTimeInfo { getTimeInfo { timezone currentTimestamp } }";
    private const string UiAddTemplate = "mutation template($setting: NewDashboardSetting!) { addTemplate(setting: $setting) { id status message } }";
    private const string UiChangeTemplate = "mutation template($setting: DashboardSetting!) { changeTemplate(setting: $setting) { id status message } }";
    private const string UiDisableTemplate = "mutation template($id: String!) { disableTemplate(id: $id) { id status message } }";

    [Fact(Timeout = Spec.Timeout)]
    public Task Every_document_the_web_UI_sends_while_it_starts_answers_as_SkyWalkings_schema_says() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        SchemaConformance schema = await graphql.SchemaAsync();

        foreach (string document in new[] { UiMenu, UiVersion, UiRecordsTtl, UiMetricsTtl, UiTracesV2, UiTemplates, UiTimeInfo })
        {
            schema.Check(document, await graphql.DataAsync(document));
        }

        Assert.Matches(VersionSwctlReads(), (string)(await graphql.DataAsync(UiVersion))["version"]!);
        Assert.False((bool)(await graphql.DataAsync(UiTracesV2))["hasQueryTracesV2Support"]!);
        Assert.Equal(
            """{"normal":3,"trace":3,"zipkinTrace":3,"log":3,"browserErrorLog":3,"coldNormal":-1,"coldTrace":-1,"coldZipkinTrace":-1,"coldLog":-1,"coldBrowserErrorLog":-1}""",
            (await graphql.DataAsync(UiRecordsTtl))["getRecordsTTL"]!.ToJsonString());
        Assert.Equal("""{"minute":3,"hour":3,"day":3,"coldMinute":-1,"coldHour":-1,"coldDay":-1}""", (await graphql.DataAsync(UiMetricsTtl))["getMetricsTTL"]!.ToJsonString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Retention_answers_follow_RecordTtlDays() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { ["RecordTtlDays"] = "9" });
        using GraphQLClient graphql = server.GraphQL();

        JsonNode ttl = await graphql.DataAsync("{ getRecordsTTL { normal log } getMetricsTTL { metadata day coldDay } }");

        Assert.Equal("""{"getRecordsTTL":{"normal":9,"log":9},"getMetricsTTL":{"metadata":9,"day":9,"coldDay":-1}}""", ttl.ToJsonString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_fresh_server_ships_a_menu_for_Go_services_activated_once_a_Go_agent_reports() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        JsonNode before = (await graphql.DataAsync(UiMenu))["getMenuItems"]![0]!;

        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        JsonNode after = (await graphql.DataAsync(UiMenu))["getMenuItems"]![0]!;

        Assert.Equal("General Service", (string)before["title"]!);
        Assert.Equal("", (string)before["layer"]!);
        Assert.Equal(["GENERAL"], before["subItems"]!.AsArray().Select(s => (string)s!["layer"]!));
        Assert.False((bool)before["activate"]!);
        Assert.False((bool)before["subItems"]![0]!["activate"]!);
        Assert.True((bool)after["activate"]!);
        Assert.True((bool)after["subItems"]![0]!["activate"]!);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_shipped_dashboards_lead_from_the_Go_services_list_to_a_service_dashboard_holding_the_pprof_widget() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        JsonObject[] dashboards = [.. (await graphql.DataAsync(UiTemplates))["getAllTemplates"]!.AsArray()
            .Select(t => (JsonObject)JsonNode.Parse((string)t!["configuration"]!)!)];

        // The web UI opens a layer on its first root dashboard of that layer, and a service from the list on the
        // service dashboard the list's widget names.
        JsonObject root = Assert.Single(dashboards, d => (string?)d["layer"] == "GENERAL" && (bool?)d["isRoot"] == true && (string?)d["entity"] == "All");
        JsonNode list = Assert.Single(root["children"]!.AsArray(), w => (string?)w!["graph"]?["type"] == "ServiceList")!;
        JsonObject service = Assert.Single(dashboards, d => (string?)d["layer"] == "GENERAL" && (string?)d["entity"] == "Service"
            && (string?)d["name"] == (string?)list["graph"]!["dashboardName"]);
        // The pprof widget reads the service when it is first shown, so it sits on a tab of its own, shown once the
        // dashboard has found its service, as SkyWalking's own profiling widgets do.
        JsonNode tabs = Assert.Single(service["children"]!.AsArray(), w => (string?)w!["type"] == "Tab")!;
        JsonNode pprof = Assert.Single(tabs["children"]!.AsArray(), t => (string?)t!["name"] == "Pprof")!;
        Assert.NotEqual(0, tabs["children"]!.AsArray().IndexOf(pprof));
        Assert.Contains(pprof["children"]!.AsArray(), w => (string?)w!["type"] == "Pprof");
        Assert.All(dashboards, d => Assert.IsType<JsonArray>(d["children"]));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_documents_of_a_service_dashboard_find_the_service_and_its_instances_and_answer_empty_for_endpoints_and_processes() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("shop::cart", "cart-1");
        await agent.RegisterAsync(("language", "go"));
        using GraphQLClient graphql = server.GraphQL();
        object duration = server.Clock.LastMinutes(TimeSpan.FromMinutes(15));

        // One request each, as the web UI sends them.
        var variables = new { layer = "GENERAL", serviceId = agent.ServiceId, instanceId = agent.InstanceId, duration, keyword = "", limit = 20, endpointId = "x", processId = "x" };
        var answers = new JsonObject();
        foreach (string document in new[]
        {
            "query queryServices($layer: String!) { services: listServices(layer: $layer) { id value: name label: name group layers normal shortName } }",
            "query queryService($serviceId: String!) { service: getService(serviceId: $serviceId) { id value: name label: name group layers normal } }",
            "query queryInstance($instanceId: String!) { instance: getInstance(instanceId: $instanceId) { id value: name label: name language instanceUUID attributes { name value } } }",
            "query queryInstances($serviceId: ID!, $duration: Duration!) { pods: listInstances(duration: $duration, serviceId: $serviceId) { id value: name label: name language instanceUUID attributes { name value } } }",
            "query queryEndpoints($serviceId: ID!, $keyword: String!, $duration: Duration, $limit: Int!) { endpoints: findEndpoint(serviceId: $serviceId, keyword: $keyword, limit: $limit, duration: $duration) { id value: name label: name } }",
            "query queryEndpoint($endpointId: ID!) { endpoint: getEndpointInfo(endpointId: $endpointId) { id value: name label: name serviceId serviceName } }",
            "query queryProcesses($instanceId: ID!, $duration: Duration!) { processes: listProcesses(instanceId: $instanceId, duration: $duration) { id value: name label: name serviceId serviceName instanceId instanceName agentId detectType attributes { name value } labels } }",
            "query queryProcess($processId: ID!) { process: getProcess(processId: $processId) { id value: name label: name serviceId serviceName instanceId instanceName agentId detectType attributes { name value } } }",
            "query listLayer { layers: listLayers }",
        })
        {
            foreach ((string key, JsonNode? value) in (JsonObject)await graphql.DataAsync(document, variables))
            {
                answers[key] = value?.DeepClone();
            }
        }

        string service = $$"""{"id":"{{agent.ServiceId}}","value":"shop::cart","label":"shop::cart","group":"shop","layers":["GENERAL"],"normal":true""";
        string instance = $$"""{"id":"{{agent.InstanceId}}","value":"cart-1","label":"cart-1","language":"GO","instanceUUID":"{{agent.InstanceId}}","attributes":[{"name":"language","value":"go"}]}""";
        Assert.Equal(
            $$"""{"services":[{{service}},"shortName":"cart"}],"service":{{service}}},"instance":{{instance}},"pods":[{{instance}}],"endpoints":[],"endpoint":null,"processes":[],"process":null,"layers":["GENERAL"]}""",
            answers.ToJsonString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Services_are_listed_with_no_layer_a_null_layer_or_by_group_as_SkyWalking_lists_them() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent cart = server.Agent("shop::cart", "cart-1");
        using GoLikeAgent plain = server.Agent("billing", "billing-1");
        await cart.RegisterAsync();
        await plain.RegisterAsync();
        using GraphQLClient graphql = server.GraphQL();
        object duration = server.Clock.LastMinutes(TimeSpan.FromMinutes(15));

        JsonNode answers = await graphql.DataAsync("""
            query ($duration: Duration!, $none: String) {
              all: listServices { name } nullLayer: listServices(layer: $none) { name }
              everyService: getAllServices(duration: $duration) { name group shortName }
              shop: getAllServices(duration: $duration, group: "shop") { name }
            }
            """, new { duration, none = (string?)null });

        Assert.Equal(
            """{"all":[{"name":"billing"},{"name":"shop::cart"}],"nullLayer":[{"name":"billing"},{"name":"shop::cart"}],"everyService":[{"name":"billing","group":"","shortName":"billing"},{"name":"shop::cart","group":"shop","shortName":"cart"}],"shop":[{"name":"shop::cart"}]}""",
            answers.ToJsonString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Swctl_finds_a_service_by_name_after_reading_a_version_it_can_parse_and_lists_and_gets_as_it_asks() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        using GraphQLClient graphql = server.GraphQL();
        object duration = server.Clock.LastMinutes(TimeSpan.FromMinutes(15));
        const string ServiceFields = "id name group shortName layers normal";

        // swctl's documents, each with its alias "result".
        string version = (string)(await graphql.DataAsync("query { result: version }"))["result"]!;
        JsonNode found = (await graphql.DataAsync(
            $"query findService($serviceName: String!) {{ result: findService(serviceName: $serviceName) {{ {ServiceFields} }} }}", new { serviceName = "go-service" }))["result"]!;
        JsonNode missing = (await graphql.DataAsync(
            $"query findService($serviceName: String!) {{ result: findService(serviceName: $serviceName) {{ {ServiceFields} }} }}", new { serviceName = "no-such" }))["result"]!;
        JsonNode all = (await graphql.DataAsync($"query ($duration: Duration!) {{ result: getAllServices(duration: $duration) {{ {ServiceFields} }} }}", new { duration }))["result"]!;
        JsonNode listed = (await graphql.DataAsync($"query ($layer: String!) {{ result: listServices(layer: $layer) {{ {ServiceFields} }} }}", new { layer = "GENERAL" }))["result"]!;
        JsonNode instance = (await graphql.DataAsync(
            "query ($instanceId: String!) { result: getInstance(instanceId: $instanceId) { id name language instanceUUID attributes { name value } } }",
            new { instanceId = agent.InstanceId }))["result"]!;

        // swctl reads major.minor and takes today's documents from major 9 on.
        Match parsed = VersionSwctlReads().Match(version);
        Assert.True(parsed.Success && int.Parse(parsed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 9, version);
        string service = $$"""{"id":"{{agent.ServiceId}}","name":"go-service","group":"","shortName":"go-service","layers":["GENERAL"],"normal":true}""";
        Assert.Equal(service, found?.ToJsonString());
        Assert.Null(missing);
        Assert.Equal($"[{service}]", all.ToJsonString());
        Assert.Equal($"[{service}]", listed.ToJsonString());
        Assert.Equal(agent.InstanceId, (string)instance["id"]!);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task FindService_without_a_name_or_an_id_is_refused_in_one_line() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        Assert.Equal("findService needs serviceName", await graphql.ErrorAsync("{ findService { id } }"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_dashboard_is_added_under_a_new_UUID_changed_and_disabled_as_the_web_UI_does_it() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        const string First = """{"layer":"GENERAL","entity":"ServiceInstance","name":"Mine","children":[]}""";
        const string Second = """{"layer":"GENERAL","entity":"ServiceInstance","name":"Mine","children":[{"x":0,"y":0,"w":24,"h":36,"i":"0","type":"Pprof"}]}""";

        JsonNode added = (await graphql.DataAsync(UiAddTemplate, new { setting = new { configuration = First } }))["addTemplate"]!;
        string id = (string)added["id"]!;
        string afterAdd = Mine(await graphql.DataAsync(UiTemplates), id);
        JsonNode changed = (await graphql.DataAsync(UiChangeTemplate, new { setting = new { id, configuration = Second } }))["changeTemplate"]!;
        string afterChange = Mine(await graphql.DataAsync(UiTemplates), id);
        JsonNode disabled = (await graphql.DataAsync(UiDisableTemplate, new { id }))["disableTemplate"]!;
        JsonNode listed = await graphql.DataAsync(UiTemplates);
        JsonNode got = (await graphql.DataAsync("query ($id: String!) { getTemplate(id: $id) { id } }", new { id }))["getTemplate"]!;
        JsonNode changedAfterDisable = (await graphql.DataAsync(UiChangeTemplate, new { setting = new { id, configuration = First } }))["changeTemplate"]!;

        Assert.True(Guid.TryParse(id, out _), id);
        Assert.Equal($$"""{"id":"{{id}}","status":true,"message":null}""", added.ToJsonString());
        Assert.Equal(First, afterAdd);
        Assert.Equal($$"""{"id":"{{id}}","status":true,"message":null}""", changed.ToJsonString());
        Assert.Equal(Second, afterChange);
        Assert.Equal($$"""{"id":"{{id}}","status":true,"message":null}""", disabled.ToJsonString());
        Assert.DoesNotContain(listed["getAllTemplates"]!.AsArray(), t => (string?)t!["id"] == id);
        Assert.Null(got);
        Assert.Equal($$"""{"id":"{{id}}","status":false,"message":"no template {{id}} (or it is disabled)"}""", changedAfterDisable.ToJsonString());

        static string Mine(JsonNode templates, string id) =>
            (string)templates["getAllTemplates"]!.AsArray().Single(t => (string?)t!["id"] == id)!["configuration"]!;
    });

    [Theory(Timeout = Spec.Timeout)]
    [InlineData("{\"layer\":\"GENERAL\",", "the configuration is not JSON: ")]
    [InlineData("[1,2]", "the configuration is a JSON array, not a dashboard object")]
    [InlineData("\"text\"", "the configuration is a JSON string, not a dashboard object")]
    public Task A_configuration_that_is_not_a_JSON_object_is_refused_with_its_reason_and_nothing_is_stored(string configuration, string reason) => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        string before = (await graphql.DataAsync(UiTemplates)).ToJsonString();
        string shipped = (string)(await graphql.DataAsync(UiTemplates))["getAllTemplates"]![0]!["id"]!;

        JsonNode added = (await graphql.DataAsync(UiAddTemplate, new { setting = new { configuration } }))["addTemplate"]!;
        JsonNode changed = (await graphql.DataAsync(UiChangeTemplate, new { setting = new { id = shipped, configuration } }))["changeTemplate"]!;

        Assert.False((bool)added["status"]!);
        Assert.StartsWith(reason, (string)added["message"]!);
        Assert.DoesNotContain('\n', (string)added["message"]!);
        Assert.False((bool)changed["status"]!);
        Assert.StartsWith(reason, (string)changed["message"]!);
        Assert.Equal(before, (await graphql.DataAsync(UiTemplates)).ToJsonString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Templates_past_MaxTemplateBytes_or_MaxTemplates_are_refused_with_the_limit_named() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { ["MaxTemplateBytes"] = "100", ["MaxTemplates"] = "3" });
        using GraphQLClient graphql = server.GraphQL();
        string large = "{\"name\":\"" + new string('x', 100) + "\"}";

        JsonNode tooLarge = (await graphql.DataAsync(UiAddTemplate, new { setting = new { configuration = large } }))["addTemplate"]!;
        JsonNode third = (await graphql.DataAsync(UiAddTemplate, new { setting = new { configuration = "{\"name\":\"third\"}" } }))["addTemplate"]!;
        JsonNode fourth = (await graphql.DataAsync(UiAddTemplate, new { setting = new { configuration = "{\"name\":\"fourth\"}" } }))["addTemplate"]!;

        Assert.Equal("the configuration is 111 bytes, more than MaxTemplateBytes (100)", (string)tooLarge["message"]!);
        Assert.True((bool)third["status"]!); // the two shipped templates and this one
        Assert.Equal("3 templates are stored already (MaxTemplates): disable or change one instead", (string)fourth["message"]!);
        Assert.Equal(3, (await graphql.DataAsync(UiTemplates))["getAllTemplates"]!.AsArray().Count);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Templates_survive_a_restart_and_a_shipped_template_people_disabled_stays_disabled() => Spec.Run(async () =>
    {
        TestServer server = await TestServer.StartAsync();
        try
        {
            string id;
            string shipped;
            using (GraphQLClient graphql = server.GraphQL())
            {
                id = (string)(await graphql.DataAsync(UiAddTemplate, new { setting = new { configuration = "{\"name\":\"kept\"}" } }))["addTemplate"]!["id"]!;
                shipped = (await graphql.DataAsync(UiTemplates))["getAllTemplates"]!.AsArray().Select(t => (string)t!["id"]!).First(t => t != id);
                Assert.True((bool)(await graphql.DataAsync(UiDisableTemplate, new { id = shipped }))["disableTemplate"]!["status"]!);
            }

            server = await server.RestartAsync();

            using GraphQLClient again = server.GraphQL();
            JsonArray templates = (await again.DataAsync(UiTemplates))["getAllTemplates"]!.AsArray();
            Assert.Contains(templates, t => (string?)t!["id"] == id && (string?)t["configuration"] == "{\"name\":\"kept\"}");
            Assert.DoesNotContain(templates, t => (string?)t!["id"] == shipped);
            Assert.Equal(2, templates.Count);
        }
        finally
        {
            await server.DisposeAsync();
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task With_an_API_token_set_template_changes_need_the_full_token() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { ["ApiToken"] = "full-token-1", ["ReadOnlyApiToken"] = "viewer-token-1" });
        using GraphQLClient anonymous = server.GraphQL();
        using GraphQLClient viewer = server.GraphQL().WithToken("viewer-token-1");
        using GraphQLClient full = server.GraphQL().WithToken("full-token-1");
        var setting = new { setting = new { configuration = "{\"name\":\"guarded\"}" } };

        using HttpResponseMessage refusedAnonymous = await anonymous.Http.PostAsJsonAsync("/graphql", new { query = UiAddTemplate, variables = setting });
        string refusedViewer = await viewer.ErrorAsync(UiAddTemplate, setting);
        int listedBefore = (await viewer.DataAsync(UiTemplates))["getAllTemplates"]!.AsArray().Count;
        JsonNode added = (await full.DataAsync(UiAddTemplate, setting))["addTemplate"]!;

        Assert.Equal(HttpStatusCode.Unauthorized, refusedAnonymous.StatusCode);
        Assert.Equal("this API token is read-only: it can query, not create tasks or change dashboards", refusedViewer);
        Assert.Equal(2, listedBefore);
        Assert.True((bool)added["status"]!);
    });

    /// <summary>What swctl parses out of <c>version</c>: major and minor at its start.</summary>
    [GeneratedRegex(@"^(\d+)\.(\d+)")]
    private static partial Regex VersionSwctlReads();
}
