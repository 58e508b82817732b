using System.Text.Json.Nodes;
using Grpc.Core;

namespace Flamewright.Server.Tests.Receiver;

/// <summary>ManagementService: how services and instances become known to the UI.</summary>
public sealed class ManagementTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_registered_Go_agent_makes_its_service_and_instance_known_under_SkyWalking_ids_with_its_properties() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync(("language", "go"), ("OS Name", "linux"), ("hostname", "host-1"), ("ipv4", "10.0.0.7"), ("Process No.", "4242"));

        // The example of docs/server.md, "Ids", to the letter.
        const string ServiceId = "Z28tc2VydmljZQ==.1";
        const string InstanceId = "Z28tc2VydmljZQ==.1_cHJvdmlkZXIx";
        JsonArray services = await graphql.ServicesAsync("GENERAL");
        JsonNode expectedService = JsonNode.Parse($$"""{"id":"{{ServiceId}}","name":"go-service","group":"","shortName":"go-service","layers":["GENERAL"]}""")!;
        Assert.Equal(new JsonArray(expectedService.DeepClone()).ToJsonString(), services.ToJsonString());
        Assert.Empty(await graphql.ServicesAsync("MESH"));
        Assert.Equal("""["GENERAL"]""", (await graphql.DataAsync("{ listLayers }"))["listLayers"]!.ToJsonString());

        JsonArray instances = await graphql.InstancesAsync(server.Clock.LastMinutes(TimeSpan.FromMinutes(15)), ServiceId);
        JsonNode expectedInstance = JsonNode.Parse($$"""
            {"id":"{{InstanceId}}","name":"provider1",
             "attributes":[{"name":"language","value":"go"},{"name":"OS Name","value":"linux"},{"name":"hostname","value":"host-1"},
                           {"name":"ipv4","value":"10.0.0.7"},{"name":"Process No.","value":"4242"}],
             "language":"GO","instanceUUID":"{{InstanceId}}","layer":"GENERAL"}
            """)!;
        Assert.Equal(new JsonArray(expectedInstance.DeepClone()).ToJsonString(), instances.ToJsonString());

        JsonNode found = await graphql.DataAsync(
            $"query ($s: String!, $i: String!) {{ getService(serviceId: $s) {{ {GraphQLClient.ServiceFields} }} getInstance(instanceId: $i) {{ {GraphQLClient.InstanceFields} }} }}",
            new { s = ServiceId, i = InstanceId });
        Assert.Equal(expectedService.ToJsonString(), found["getService"]!.ToJsonString());
        Assert.Equal(expectedInstance.ToJsonString(), found["getInstance"]!.ToJsonString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Unknown_services_and_instances_are_found_as_null() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        JsonNode found = await graphql.DataAsync("""
            { getService(serviceId: "bm9uZQ==.1") { id } getInstance(instanceId: "bm9uZQ==.1_bm9uZQ==") { id }
              findService(serviceName: "none") { id } byOldName: findService(serviceId: "bm9uZQ==.1") { id }
              findInstance(instanceId: "bm9uZQ==.1_bm9uZQ==") { id } }
            """);

        Assert.Equal("""{"getService":null,"getInstance":null,"findService":null,"byOldName":null,"findInstance":null}""", found.ToJsonString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task KeepAlive_refreshes_an_instances_last_seen_time_and_keeps_its_properties() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync(("language", "go"), ("hostname", "host-1"));

        server.Clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Empty(await graphql.InstancesAsync(server.Clock.LastMinutes(TimeSpan.FromMinutes(10)), agent.ServiceId));

        await agent.KeepAliveAsync();
        JsonArray seen = await graphql.InstancesAsync(server.Clock.LastMinutes(TimeSpan.FromMinutes(10)), agent.ServiceId);
        JsonNode instance = Assert.Single(seen)!;
        Assert.Equal(agent.InstanceId, (string)instance["id"]!);
        Assert.Equal("""[{"name":"language","value":"go"},{"name":"hostname","value":"host-1"}]""", instance["attributes"]!.ToJsonString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_instance_is_listed_only_for_windows_in_which_it_was_alive() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        object beforeItStarted = server.Clock.LastMinutes(TimeSpan.FromMinutes(10));
        server.Clock.Advance(TimeSpan.FromMinutes(30));

        await agent.RegisterAsync();

        Assert.Empty(await graphql.InstancesAsync(beforeItStarted, agent.ServiceId));
        Assert.Single(await graphql.InstancesAsync(server.Clock.LastMinutes(TimeSpan.FromMinutes(10)), agent.ServiceId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_new_registration_replaces_the_properties_and_an_agent_without_a_language_is_UNKNOWN() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync(("language", "go"), ("hostname", "host-1"));

        await agent.RegisterAsync(("hostname", "host-2"));

        JsonNode instance = (await graphql.GetInstanceAsync(agent.InstanceId))!;
        Assert.Equal("""[{"name":"hostname","value":"host-2"}]""", instance["attributes"]!.ToJsonString());
        Assert.Equal("UNKNOWN", (string)instance["language"]!);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Blank_service_and_instance_names_are_encoded_as_blank_in_ids_and_in_dispatch() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("", " ");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync();

        // Base64("_blank") = "X2JsYW5r".
        Assert.Equal("X2JsYW5r.1", agent.ServiceId);
        Assert.Equal("X2JsYW5r.1_X2JsYW5r", agent.InstanceId);
        JsonNode found = await graphql.DataAsync(
            "query ($s: String!, $i: String!) { getService(serviceId: $s) { id } getInstance(instanceId: $i) { id } }",
            new { s = "X2JsYW5r.1", i = "X2JsYW5r.1_X2JsYW5r" });
        Assert.Equal("X2JsYW5r.1", (string)found["getService"]!["id"]!);
        Assert.Equal("X2JsYW5r.1_X2JsYW5r", (string)found["getInstance"]!["id"]!);

        string taskId = await graphql.CreateTaskAsync("X2JsYW5r.1", ["X2JsYW5r.1_X2JsYW5r"], "HEAP");
        Assert.Equal(taskId, (await agent.PollAsync())?.TaskId);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task With_the_pprof_receiver_off_agents_still_register_but_pprof_calls_are_UNIMPLEMENTED() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(environment: new Dictionary<string, string> { ["SW_RECEIVER_PPROF"] = "-" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();

        await agent.RegisterAsync();

        Assert.Single(await graphql.ServicesAsync("GENERAL"));
        Assert.Equal(StatusCode.Unimplemented, (await Assert.ThrowsAsync<RpcException>(agent.PollAsync)).StatusCode);
    });
}
