using System.Net;
using System.Text.Json.Nodes;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;

namespace Flamewright.Server.Tests.Query;

/// <summary>GET /api/tasks/{id}/profile: a task's uploads, merged, in the format a tool reads.</summary>
public sealed class RestDownloadTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task The_pprof_download_is_gzip_the_engine_reads_with_the_merged_selections_total() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        byte[] a = TestData.Bytes("heap-a");
        byte[] b = TestData.Bytes("heap-b");
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (first, a), (second, b));

        using HttpResponseMessage merged = await graphql.Http.GetAsync($"/api/tasks/{taskId}/profile?format=pprof");
        using HttpResponseMessage one = await graphql.Http.GetAsync($"/api/tasks/{taskId}/profile?instances={Uri.EscapeDataString(second.InstanceId)}");

        Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        Assert.Equal("application/octet-stream", merged.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", merged.Content.Headers.ContentDisposition!.DispositionType);
        byte[] bytes = await merged.Content.ReadAsByteArrayAsync();
        Assert.Equal([0x1f, 0x8b], bytes[..2]);
        Assert.Equal(Engine.Total(a, "inuse_space") + Engine.Total(b, "inuse_space"), Engine.Total(bytes, "inuse_space"));
        Assert.Equal(Engine.Total(a, "alloc_objects") + Engine.Total(b, "alloc_objects"), Engine.Total(bytes, "alloc_objects"));
        Assert.Equal(Engine.Total(b, "inuse_space"), Engine.Total(await one.Content.ReadAsByteArrayAsync(), "inuse_space"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Every_other_format_has_its_content_type_and_the_engines_content() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] cpu = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, cpu));
        var options = new FlameOptions { SampleType = "cpu" };
        FlameTree tree = Engine.Tree(options, cpu);

        (string folded, string foldedType) = await GetAsync("folded");
        (string svg, string svgType) = await GetAsync("svg");
        (string speedscope, string speedscopeType) = await GetAsync("speedscope");
        (string json, string jsonType) = await GetAsync("json");
        (string top, string topType) = await GetAsync("top");

        Assert.Equal(("text/plain", Folded(tree)), (foldedType, folded));
        Assert.Equal("image/svg+xml", svgType);
        Assert.Contains("<svg", svg);
        Assert.Equal(("application/json", Written(output => Speedscope.Write(tree, output, $"task {taskId}"))), (speedscopeType, speedscope));
        Assert.Contains("speedscope", (string?)JsonNode.Parse(speedscope)!["$schema"]);
        Assert.Equal(("application/json", Written(output => JsonTree.Write(tree, output))), (jsonType, json));
        using var expectedTop = new StringWriter();
        TopText.Write(TopTable.Build(Engine.Read(cpu), options), expectedTop);
        Assert.Equal(("text/plain", expectedTop.ToString()), (topType, top));

        static string Written(Action<Stream> write)
        {
            using var output = new MemoryStream();
            write(output);
            return System.Text.Encoding.UTF8.GetString(output.ToArray());
        }

        async Task<(string Body, string ContentType)> GetAsync(string format)
        {
            using HttpResponseMessage response = await graphql.Http.GetAsync($"/api/tasks/{taskId}/profile?format={format}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType!.MediaType!);
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Downloads_take_the_analysis_options_too() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] cpu = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, cpu));
        var options = new FlameOptions { SampleType = "samples", Granularity = FrameGranularity.Line, Focus = @"main\.", Ignore = @"main\.mix" };

        string folded = await graphql.Http.GetStringAsync(
            $"/api/tasks/{taskId}/profile?format=folded&sampleType=samples&granularity=line&focus={Uri.EscapeDataString(options.Focus)}&ignore={Uri.EscapeDataString(options.Ignore)}");

        Assert.Equal(Folded(Engine.Tree(options, cpu)), folded);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Downloads_take_label_filters_and_a_split_and_a_pprof_download_refuses_them() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] cpu = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, cpu));
        var options = new FlameOptions { SampleType = "cpu", TagFocus = "tenant=acme", TagSplit = "phase" };

        string folded = await graphql.Http.GetStringAsync(
            $"/api/tasks/{taskId}/profile?format=folded&tagFocus={Uri.EscapeDataString(options.TagFocus)}&tagSplit=phase");
        (HttpStatusCode status, string reason) = await FailAsync(graphql, $"/api/tasks/{taskId}/profile?format=pprof&tagIgnore=job=deep");

        Assert.Equal(Folded(Engine.Tree(options, cpu)), folded);
        Assert.Contains("phase=generic", folded, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("format pprof is the merged profile, whole", reason, StringComparison.Ordinal);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_unknown_task_is_a_404_with_a_one_line_reason() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        const string Unknown = "1700000000000_Z28tc2VydmljZQ==.1";

        (HttpStatusCode status, string reason) = await FailAsync(graphql, $"/api/tasks/{Unknown}/profile?format=pprof");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal($"unknown task '{Unknown}'", reason);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_bad_request_is_a_400_with_a_one_line_reason() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GoLikeAgent silent = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Bytes("cpu")));
        string empty = await graphql.TaskTakenByAsync("HEAP", silent);

        (HttpStatusCode, string)[] failures =
        [
            await FailAsync(graphql, $"/api/tasks/{taskId}/profile?format=png"),
            await FailAsync(graphql, $"/api/tasks/{taskId}/profile?granularity=address"),
            await FailAsync(graphql, $"/api/tasks/{taskId}/profile?format=folded&sampleType=wall"),
            await FailAsync(graphql, $"/api/tasks/{taskId}/profile?instances={Uri.EscapeDataString(silent.InstanceId)}"),
            await FailAsync(graphql, $"/api/tasks/{empty}/profile?format=folded"),
        ];

        Assert.All(failures, f => Assert.Equal(HttpStatusCode.BadRequest, f.Item1));
        Assert.StartsWith("unknown format 'png'", failures[0].Item2);
        Assert.Equal("granularity must be 'function' or 'line'", failures[1].Item2);
        Assert.Contains("'wall'", failures[2].Item2);
        Assert.Equal($"instance 'provider2' has no uploaded profile for task '{taskId}'", failures[3].Item2);
        Assert.Equal($"no profile has been uploaded for task '{empty}' yet", failures[4].Item2);
    });

    /// <summary>The folded stacks the engine writes for a tree.</summary>
    private static string Folded(FlameTree tree)
    {
        using var text = new StringWriter();
        FoldedStacks.Write(tree, text);
        return text.ToString();
    }

    /// <summary>A download that must fail: its status and its one-line reason.</summary>
    private static async Task<(HttpStatusCode Status, string Reason)> FailAsync(GraphQLClient client, string path)
    {
        using HttpResponseMessage response = await client.Http.GetAsync(path);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.True(body.EndsWith('\n') && body.IndexOf('\n') == body.Length - 1, $"{path}: the reason is not one line: {body}");
        return (response.StatusCode, body.TrimEnd('\n'));
    }
}
