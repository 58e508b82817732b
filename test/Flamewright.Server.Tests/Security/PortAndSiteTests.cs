using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using Flamewright.Server.Configuration;
using Grpc.Net.Client;

namespace Flamewright.Server.Tests.Security;

/// <summary>
/// Each port serves its own callers, and other web sites cannot use a visitor's browser against the HTTP API:
/// the rows of the outside probe about ports, cross-site requests, DNS rebinding and framing.
/// </summary>
public sealed class PortAndSiteTests
{
    private const string Layers = """{"query":"{ listLayers }"}""";

    [Fact(Timeout = Spec.Timeout)]
    public Task The_agent_port_answers_GraphQL_downloads_and_the_UI_with_404_even_over_h2c() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using var h2c = new HttpClient { BaseAddress = server.GrpcAddress, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using HttpResponseMessage graphql = await h2c.PostAsync("/graphql", new StringContent(Layers, Encoding.UTF8, "application/json"));
        using HttpResponseMessage download = await h2c.GetAsync("/api/access");
        using HttpResponseMessage page = await h2c.GetAsync("/");
        using HttpResponseMessage health = await h2c.GetAsync("/healthz");

        Assert.All([graphql, download, page, health], r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        Assert.Equal("this is the agent (gRPC) port: GraphQL, REST and the web UI are on the HTTP port\n", await graphql.Content.ReadAsStringAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Agents_still_reach_their_services_and_an_unknown_service_reads_unimplemented() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GrpcChannel channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var unknown = new Method<byte[], byte[]>(MethodType.Unary, "skywalking.v3.ConfigurationDiscoveryService", "fetchConfigurations",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));

        await agent.RegisterAsync();
        var refused = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(unknown, null, new CallOptions(), []).ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
        using GraphQLClient graphql = server.GraphQL();
        Assert.Single(await graphql.ServicesAsync("GENERAL"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_agent_that_names_the_server_by_a_DNS_name_is_served_without_listing_the_name() => Spec.Run(async () =>
    {
        // In a cluster agents reach the server by a service name (flamewright.observability:11800), which gRPC sends
        // as the request's host. The name check keeps other web sites' pages off the HTTP API; browsers cannot call
        // the agent port's gRPC services, so agents are not held to it. The connection itself goes to loopback.
        await using TestServer server = await TestServer.StartAsync();
        int port = server.GrpcAddress.Port;
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellation) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, port, cancellation);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using GrpcChannel channel = GrpcChannel.ForAddress($"http://flamewright.observability:{port}", new GrpcChannelOptions { HttpHandler = handler });
        var management = new Flamewright.Protocol.Management.ManagementService.ManagementServiceClient(channel);

        await management.reportInstancePropertiesAsync(new Flamewright.Protocol.Management.InstanceProperties { Service = "go-service", ServiceInstance = "in-a-cluster" });

        using GraphQLClient graphql = server.GraphQL();
        Assert.Single(await graphql.ServicesAsync("GENERAL"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_text_plain_post_from_a_foreign_page_cannot_create_a_task() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        string mutation = $$"""{"query":"mutation { createPprofTask(pprofTaskCreationRequest: {serviceId: \"{{agent.ServiceId}}\", serviceInstanceIds: [\"{{agent.InstanceId}}\"], events: HEAP}) { code } }"}""";
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        using HttpResponseMessage plain = await http.PostAsync("/graphql", new StringContent(mutation, Encoding.UTF8, "text/plain"));
        using var foreign = new HttpRequestMessage(HttpMethod.Post, "/graphql") { Content = new StringContent(mutation, Encoding.UTF8, "application/json") };
        foreign.Headers.Add("Origin", "http://evil.example");
        using HttpResponseMessage fromElsewhere = await http.SendAsync(foreign);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.StatusCode);
        Assert.Equal("POST /graphql needs Content-Type: application/json", Message(await plain.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.Forbidden, fromElsewhere.StatusCode);
        Assert.Equal("requests from pages of http://evil.example are refused: add the origin to AllowedOrigins to let its pages call this API",
            Message(await fromElsewhere.Content.ReadAsStringAsync()));
        using GraphQLClient graphql = server.GraphQL();
        Assert.Empty(await graphql.TasksAsync(agent.ServiceId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_servers_own_origin_and_listed_origins_are_served() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { ["AllowedOrigins"] = "https://ui.example.com:8080" });
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        HttpStatusCode own = await PostLayersAsync(http, origin: $"http://127.0.0.1:{server.Server.HttpPort}");
        HttpStatusCode listed = await PostLayersAsync(http, origin: "https://ui.example.com:8080");
        HttpStatusCode otherPort = await PostLayersAsync(http, origin: "http://127.0.0.1:3000");
        HttpStatusCode sandboxed = await PostLayersAsync(http, origin: "null");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (own, listed, otherPort, sandboxed));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_name_rebound_to_the_server_is_refused_and_IPs_localhost_and_listed_names_are_served() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { ["AllowedHosts"] = "*.example.com" });
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        HttpStatusCode rebound = await PostLayersAsync(http, host: "evil.example");
        HttpStatusCode ip = await PostLayersAsync(http, host: $"127.0.0.1:{server.Server.HttpPort}");
        HttpStatusCode localhost = await PostLayersAsync(http, host: $"localhost:{server.Server.HttpPort}");
        HttpStatusCode listed = await PostLayersAsync(http, host: "profiler.example.com");
        using var page = new HttpRequestMessage(HttpMethod.Get, "/");
        page.Headers.Host = "evil.example";
        using HttpResponseMessage uiPage = await http.SendAsync(page);
        using var health = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        health.Headers.Host = "lb-probe.internal";
        using HttpResponseMessage healthz = await http.SendAsync(health);

        Assert.Equal(HttpStatusCode.Forbidden, rebound);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (ip, localhost, listed));
        Assert.Equal(HttpStatusCode.Forbidden, uiPage.StatusCode);
        Assert.Equal("this server does not answer to the name 'evil.example': add it to AllowedHosts", Message(await uiPage.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_UI_cannot_be_framed_by_another_site() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        using HttpResponseMessage page = await http.GetAsync("/");

        Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Every_file_of_the_UI_is_served_with_its_type_its_policy_and_a_tag_that_spares_sending_it_again() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        string[] paths = [.. Flamewright.Server.Web.WebUi.Paths];

        // The router and every module it imports, the renderer among them.
        string version = Flamewright.Server.Web.WebUi.Version;
        Assert.Superset(new HashSet<string> { "/", $"/ui/{version}/app.js", $"/ui/{version}/analysis.js", $"/ui/{version}/flame.js", $"/ui/{version}/style.css" }, paths.ToHashSet());
        foreach (string path in paths)
        {
            using HttpResponseMessage file = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            string expected = path == "/" ? "text/html" : path.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript" : "text/css";
            Assert.Equal(expected, file.Content.Headers.ContentType!.MediaType);
            Assert.StartsWith("default-src 'self'", file.Headers.GetValues("Content-Security-Policy").Single());

            // Asked again with the tag it was given, an unchanged file is "not modified": the browser keeps its copy.
            using var again = new HttpRequestMessage(HttpMethod.Get, path);
            again.Headers.IfNoneMatch.Add(file.Headers.ETag!);
            using HttpResponseMessage unchanged = await http.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
            Assert.Empty(await unchanged.Content.ReadAsByteArrayAsync());
            using var other = new HttpRequestMessage(HttpMethod.Get, path);
            other.Headers.IfNoneMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue("\"an-older-version\""));
            using HttpResponseMessage changed = await http.SendAsync(other);
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            Assert.Equal(await file.Content.ReadAsByteArrayAsync(), await changed.Content.ReadAsByteArrayAsync());
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_page_names_its_files_under_the_build_s_version_which_the_browser_keeps_and_another_version_is_asked_again() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        string version = Flamewright.Server.Web.WebUi.Version;

        // The page itself is asked for each time; every file it names carries this build's version.
        using HttpResponseMessage index = await http.GetAsync("/");
        Assert.True(index.Headers.CacheControl!.NoCache);
        string html = await index.Content.ReadAsStringAsync();
        Assert.Contains($"src=\"/ui/{version}/app.js\"", html, StringComparison.Ordinal);
        Assert.Contains($"href=\"/ui/{version}/style.css\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("\"/ui/app.js\"", html, StringComparison.Ordinal);

        // Under this version a file is kept for good, with the same bytes as under its plain name.
        using HttpResponseMessage kept = await http.GetAsync($"/ui/{version}/flame.js");
        Assert.Equal("public, max-age=31536000, immutable", kept.Headers.CacheControl!.ToString());
        using HttpResponseMessage plain = await http.GetAsync("/ui/flame.js");
        Assert.True(plain.Headers.CacheControl!.NoCache);
        Assert.Equal(await plain.Content.ReadAsByteArrayAsync(), await kept.Content.ReadAsByteArrayAsync());

        // A page loaded from another build gets today's file, to be asked for again; an unknown file is not found.
        using HttpResponseMessage older = await http.GetAsync("/ui/0123456789abcdef/flame.js");
        Assert.Equal(HttpStatusCode.OK, older.StatusCode);
        Assert.True(older.Headers.CacheControl!.NoCache);
        using HttpResponseMessage missing = await http.GetAsync($"/ui/{version}/nothing.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    });

    [Theory(Timeout = Spec.Timeout)]
    [InlineData("", "none")]
    [InlineData(nameof(ServerOptions.ApiToken), "asked")]
    [InlineData(nameof(ServerOptions.ReadOnlyApiToken), "asked")]
    public Task The_page_says_whether_the_server_asks_for_a_token_under_every_name_it_is_served_by(string tokenSetting, string said) => Spec.Run(async () =>
    {
        var settings = tokenSetting.Length == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { [tokenSetting] = "page-token-0123456789" };
        await using TestServer server = await TestServer.StartAsync(settings);
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        foreach (string path in new[] { "/", "/ui/index.html", $"/ui/{Flamewright.Server.Web.WebUi.Version}/index.html" })
        {
            string html = await http.GetStringAsync(path);
            Assert.Contains($"<meta name=\"flamewright-token\" content=\"{said}\">", html, StringComparison.Ordinal);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "name=\"flamewright-token\""));
        }
    });

    private static async Task<HttpStatusCode> PostLayersAsync(HttpClient http, string? origin = null, string? host = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql") { Content = new StringContent(Layers, Encoding.UTF8, "application/json") };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (host is not null)
        {
            request.Headers.Host = host;
        }

        using HttpResponseMessage response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static string? Message(string body) => (string?)JsonNode.Parse(body)!["errors"]![0]!["message"];
}
