using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Flamewright.Pprof.Analysis;
using Flamewright.Server.Analysis;
using Microsoft.Extensions.DependencyInjection;

namespace Flamewright.Server.Tests.Query;

/// <summary>
/// <c>queryPprofFlameView</c> sends what a flame graph of a given width draws, exactly, from the cached tree of the
/// selection; a new upload is never answered from a stale tree; the top table pages and sorts on the server.
/// </summary>
public sealed class FlameViewQueryTests
{
    private const string View = """
        query ($r: PprofAnalyzationRequest!, $zoom: [String!], $width: Int!, $search: String) {
          queryPprofFlameView(request: $r, zoom: $zoom, width: $width, search: $search) {
            sampleType { type } total ancestors { name total }
            names frames { parent depth name nameIndex total self matched } narrower { parent count total } matchedTotal
          }
        }
        """;

    [Fact(Timeout = Spec.Timeout)]
    public Task The_view_draws_the_engines_tree_exactly_with_its_narrower_frames_summed_per_parent() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));

        JsonNode view = await ViewAsync(graphql, taskId, 200);

        FlameTree expected = Engine.Tree(new FlameOptions { SampleType = "cpu" }, profile);
        FlameView engine = FlameView.Build(expected, [], 200);
        JsonArray frames = view["frames"]!.AsArray();
        Assert.Equal(expected.Total, (long)view["total"]!);
        Assert.Equal("cpu", (string?)view["sampleType"]!["type"]);
        Assert.Equal(engine.Frames.Select(f => (f.Name, f.Total, f.Self, f.Parent)), frames.Select(f => ((string)f!["name"]!, (long)f["total"]!, (long)f["self"]!, (int)f["parent"]!)));
        Assert.Equal(engine.Narrower.Select(n => (n.Parent, n.Count, n.Total)), view["narrower"]!.AsArray().Select(n => ((int)n!["parent"]!, (int)n["count"]!, (long)n["total"]!)));
        Assert.True(frames.Count < expected.Count, $"{frames.Count} frames of {expected.Count}: a narrow view leaves frames out");
        // Each name once in names, and every frame's nameIndex points at its own name.
        string[] names = [.. view["names"]!.AsArray().Select(n => (string)n!)];
        Assert.Equal(names.Distinct(StringComparer.Ordinal).Count(), names.Length);
        Assert.All(frames, f => Assert.Equal((string)f!["name"]!, names[(int)f["nameIndex"]!]));
    });

    [Theory(Timeout = Spec.Timeout)]
    [InlineData(null)]
    [InlineData("^runtime\\.")]
    public Task The_columns_hold_the_same_frames_and_narrower_blocks_as_the_lists_of_objects(string? search) => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Bytes("cpu")));
        const string Both = """
            query ($r: PprofAnalyzationRequest!, $search: String) {
              queryPprofFlameView(request: $r, width: 60, search: $search) {
                frames { node parent nameIndex total self matched } narrower { parent count total }
                frameColumns { node parent nameIndex total self matched } narrowerColumns { parent count total } } }
            """;

        JsonNode view = (await graphql.DataAsync(Both, new { r = new { taskId, instanceIds = Array.Empty<string>() }, search }))["queryPprofFlameView"]!;

        JsonArray frames = view["frames"]!.AsArray();
        JsonNode columns = view["frameColumns"]!;
        long[] Column(JsonNode of, string name) => [.. of[name]!.AsArray().Select(v => (long)v!)];
        foreach (string field in new[] { "node", "parent", "nameIndex", "total", "self" })
        {
            Assert.Equal(frames.Select(f => (long)f![field]!), Column(columns, field));
        }

        Assert.Equal(Enumerable.Range(0, frames.Count).Where(i => (bool)frames[i]!["matched"]!).Select(i => (long)i), Column(columns, "matched"));
        Assert.Equal(search is not null, Column(columns, "matched").Length > 0);
        JsonArray narrower = view["narrower"]!.AsArray();
        Assert.NotEmpty(narrower);
        foreach (string field in new[] { "parent", "count", "total" })
        {
            Assert.Equal(narrower.Select(n => (long)n![field]!), Column(view["narrowerColumns"]!, field));
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_first_look_at_a_task_whose_tree_was_never_built_is_cut_from_the_stacks_and_a_zoom_then_builds_the_tree() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(Flamewright.Server.Configuration.ServerOptions.PrecomputeDefaultView)] = "false" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));
        const string Look = """
            query ($r: PprofAnalyzationRequest!, $zoom: [String!]) {
              queryPprofFlameView(request: $r, zoom: $zoom, width: 200) { frames { node parent name total self } narrower { parent count total } } }
            """;
        FlameTree tree = Engine.Tree(new FlameOptions { SampleType = "cpu" }, profile);
        FlameView expected = FlameView.Build(tree, [], 200);

        JsonNode look = (await graphql.DataAsync(Look, new { r = new { taskId, instanceIds = Array.Empty<string>() }, zoom = Array.Empty<string>() }))["queryPprofFlameView"]!;

        JsonArray frames = look["frames"]!.AsArray();
        Assert.Equal(expected.Frames.Select(f => (f.Name, f.Total, f.Self, f.Parent)),
            frames.Select(f => ((string)f!["name"]!, (long)f["total"]!, (long)f["self"]!, (int)f["parent"]!)));
        Assert.Equal(expected.Narrower.Select(n => (n.Parent, n.Count, n.Total)), look["narrower"]!.AsArray().Select(n => ((int)n!["parent"]!, (int)n["count"]!, (long)n["total"]!)));
        // Numbered in order, as only a view made without the tree is: the tree's numbers skip its narrower nodes.
        Assert.Equal(Enumerable.Range(0, frames.Count), frames.Select(f => (int)f!["node"]!));
        Assert.NotEqual(expected.Frames.Select(f => f.Node), frames.Select(f => (int)f!["node"]!));

        ViewFrame widest = expected.Frames.Skip(1).Where(f => tree.ChildrenOf(f.Node).Any()).MaxBy(f => f.Total);
        JsonNode zoomed = (await graphql.DataAsync(Look, new { r = new { taskId, instanceIds = Array.Empty<string>() }, zoom = tree.PathOf(widest.Node) }))["queryPprofFlameView"]!;

        Assert.Equal(FlameView.Build(tree, tree.PathOf(widest.Node), 200).Frames.Select(f => (f.Node, f.Name, f.Total)),
            zoomed["frames"]!.AsArray().Select(f => ((int)f!["node"]!, (string)f["name"]!, (long)f["total"]!)));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Zooming_answers_the_frames_under_the_path_with_the_trail_and_search_marks_and_sums_matches() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));
        FlameTree expected = Engine.Tree(new FlameOptions(), profile);
        FlameNode deep = Enumerable.Range(0, expected.Count).Select(i => expected[i]).First(n => n.Depth == 3 && n.Children.Any());

        JsonNode zoomed = await ViewAsync(graphql, taskId, 1400, expected.PathOf(deep.Index), search: "^runtime\\.");

        JsonArray frames = zoomed["frames"]!.AsArray();
        Assert.Equal((deep.Name, deep.Total, 0), ((string)frames[0]!["name"]!, (long)frames[0]!["total"]!, (int)frames[0]!["depth"]!));
        Assert.Equal(["root", .. expected.PathOf(deep.Index)], zoomed["ancestors"]!.AsArray().Select(a => (string)a!["name"]!));
        Assert.All(frames.Where(f => (bool)f!["matched"]!), f => Assert.StartsWith("runtime.", (string)f!["name"]!));
        long underZoom = Enumerable.Range(deep.Index, expected.SubtreeEnd(deep.Index) - deep.Index)
            .Where(n => IsRuntime(expected, n) && !HasMatchingAncestorFrom(expected, n, deep.Index))
            .Sum(n => expected.TotalOf(n));
        Assert.Equal(underZoom, (long)zoomed["matchedTotal"]!);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_zoom_path_that_names_no_frame_and_a_width_out_of_range_are_refused_in_one_line() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Bytes("cpu")));
        object Request(string[] zoom, int width) => new { r = new { taskId, instanceIds = Array.Empty<string>() }, zoom, width };

        string missing = await graphql.ErrorAsync(View, Request(["no.such.function"], 100));
        string tooWide = await graphql.ErrorAsync(View, Request([], 100_000));

        Assert.Equal("no frame 'no.such.function' under 'root' in this flame graph: the zoom path does not exist", missing);
        Assert.Equal("width must be between 1 and 16384 pixels (MaxViewWidthPixels)", tooWide);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_instance_that_uploads_again_is_never_answered_from_the_tree_of_its_first_upload() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] first = TestData.Bytes("heap-a"), second = TestData.Bytes("heap-b");
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, first));
        long before = (long)(await ViewAsync(graphql, taskId, 100))["total"]!;

        server.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Flamewright.Protocol.Pprof.PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, second));
        long after = (long)(await ViewAsync(graphql, taskId, 100))["total"]!;
        long analyzed = await graphql.AnalyzedTotalAsync(taskId);

        Assert.Equal(Engine.Total(first, "inuse_space"), before);
        Assert.Equal(Engine.Total(second, "inuse_space"), after);
        Assert.Equal(after, analyzed);
        Assert.NotEqual(before, after);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_last_expected_upload_builds_the_default_view_which_the_pages_first_request_then_reads() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        AnalysisService analysis = server.Server.Services.GetRequiredService<AnalysisService>();
        string taskId = await graphql.TaskTakenByAsync("CPU", first, second);

        Assert.Equal(Flamewright.Protocol.Pprof.PprofProfilingStatus.PprofProfilingSuccess, await first.UploadAsync(taskId, TestData.Bytes("cpu")));
        long afterFirst = analysis.CachedResults;
        Assert.Equal(Flamewright.Protocol.Pprof.PprofProfilingStatus.PprofProfilingSuccess, await second.UploadAsync(taskId, TestData.Bytes("cpu")));
        await server.Logs.WaitForAsync(typeof(AnalysisService).FullName!, 500, TimeSpan.FromSeconds(30));
        long precomputed = analysis.CachedResults;
        // The page names the instances and the sample type it shows; the same selection, so the same entries.
        JsonNode view = (await graphql.DataAsync(View, new
        {
            r = new { taskId, instanceIds = new[] { first.InstanceId, second.InstanceId }, sampleType = "cpu", granularity = "FUNCTION" },
            zoom = Array.Empty<string>(), width = 1400, search = (string?)null,
        }))["queryPprofFlameView"]!;
        await graphql.DataAsync("query ($r: PprofAnalyzationRequest!) { queryPprofTop(request: $r, limit: 300) { rowCount } }",
            new { r = new { taskId, instanceIds = new[] { first.InstanceId, second.InstanceId }, sampleType = "cpu" } });

        Assert.Equal((0, 2), (afterFirst, precomputed));
        Assert.Equal(2, analysis.CachedResults);
        Assert.Equal(2 * Engine.Total(TestData.Bytes("cpu"), "cpu"), (long)view["total"]!);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Server_timing_says_where_a_built_view_spent_its_time_and_an_answer_from_the_cache_met_no_build() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        // A task still waiting for its second instance: nothing is built ahead.
        string taskId = await graphql.TaskTakenByAsync("CPU", first, second);
        await first.UploadAsync(taskId, TestData.Bytes("cpu"));
        var body = new { query = View, variables = new { r = new { taskId, instanceIds = new[] { first.InstanceId } }, zoom = Array.Empty<string>(), width = 1000 } };

        string built = await TimingAsync();
        string cached = await TimingAsync();

        Assert.Matches(@"^execute;dur=[0-9.]+, turn;dur=[0-9.]+, store;dur=[0-9.]+, read;dur=[0-9.]+, build;dur=[0-9.]+, view;dur=[0-9.]+$", built);
        Assert.Matches(@"^execute;dur=[0-9.]+, store;dur=[0-9.]+, view;dur=[0-9.]+$", cached);

        async Task<string> TimingAsync()
        {
            using HttpResponseMessage response = await graphql.Http.PostAsJsonAsync("/graphql", body);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            return string.Join(", ", response.Headers.GetValues("Server-Timing"));
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_default_view_waits_until_no_upload_is_being_received_and_then_makes_the_uploads_digests() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GoLikeAgent busy = server.Agent("other-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);
        string otherTask = await graphql.TaskTakenByAsync("HEAP", busy);
        string analysis = typeof(AnalysisService).FullName!;

        await busy.HangUpMidUploadAsync(otherTask, TestData.Bytes("heap"), async () =>
        {
            // Another upload is being received: the finished task's view waits for it.
            Assert.Equal(Flamewright.Protocol.Pprof.PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, TestData.Bytes("cpu")));
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.DoesNotContain(server.Logs.Entries, e => e.Category == analysis && e.Event.Id == 500);
            Assert.Null(await server.DatabaseAsync("SELECT digest FROM uploads WHERE task_id = @p", taskId));
        });

        await server.Logs.WaitForAsync(analysis, 500, TimeSpan.FromSeconds(30));
        await server.Logs.WaitForAsync(analysis, 504, TimeSpan.FromSeconds(30));
        Assert.IsType<byte[]>(await server.DatabaseAsync("SELECT digest FROM uploads WHERE task_id = @p", taskId));
        // The default view's tree and its first look, kept in the background once built.
        await server.Logs.WaitForAsync(analysis, 506, TimeSpan.FromSeconds(30));
        Assert.Equal(2L, await server.DatabaseAsync("SELECT COUNT(*) FROM task_views WHERE task_id = @p", taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_sample_type_the_uploads_lack_is_refused_even_after_the_default_view_was_cached() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        // A CPU task whose instance uploaded a heap profile: no "cpu" sample type, so pprof's own default weighs it.
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Bytes("heap")));
        long byDefault = (long)(await ViewAsync(graphql, taskId, 100))["total"]!;

        string refused = await graphql.ErrorAsync(View, new { r = new { taskId, instanceIds = Array.Empty<string>(), sampleType = "cpu" }, zoom = Array.Empty<string>(), width = 100 });

        Assert.Equal(Engine.Total(TestData.Bytes("heap"), "inuse_space"), byDefault);
        Assert.Contains("cpu", refused, StringComparison.Ordinal);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_top_table_pages_and_sorts_on_the_server_and_counts_its_rows() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));
        const string Top = "query ($r: PprofAnalyzationRequest!, $o: Int, $by: PprofTopOrder) { queryPprofTop(request: $r, limit: 5, offset: $o, orderBy: $by) { rowCount rows { name flat cum } } }";
        object Request(int offset, string by) => new { r = new { taskId, instanceIds = Array.Empty<string>() }, o = offset, by };

        JsonNode second = (await graphql.DataAsync(Top, Request(5, "FLAT")))["queryPprofTop"]!;
        JsonNode byCum = (await graphql.DataAsync(Top, Request(0, "CUM")))["queryPprofTop"]!;

        TopTable expected = TopTable.Build(Engine.Read(profile));
        Assert.Equal(expected.Entries.Count, (int)second["rowCount"]!);
        Assert.Equal(expected.Entries.Skip(5).Take(5).Select(e => e.Name), second["rows"]!.AsArray().Select(r => (string)r!["name"]!));
        long[] cums = [.. byCum["rows"]!.AsArray().Select(r => (long)r!["cum"]!)];
        Assert.Equal(expected.Entries.Max(e => e.Cum), cums[0]);
        Assert.Equal(cums.OrderDescending(), cums);
    });

    private static bool IsRuntime(FlameTree tree, int node) => tree.NameOf(node).StartsWith("runtime.", StringComparison.Ordinal);

    /// <summary>Whether a frame between <paramref name="root"/> (included) and <paramref name="node"/> (excluded) matches.</summary>
    private static bool HasMatchingAncestorFrom(FlameTree tree, int node, int root)
    {
        for (int parent = tree.ParentOf(node); node != root && parent >= root; parent = tree.ParentOf(parent))
        {
            if (IsRuntime(tree, parent))
            {
                return true;
            }

            if (parent == root)
            {
                break;
            }
        }

        return false;
    }

    private static async Task<JsonNode> ViewAsync(GraphQLClient graphql, string taskId, int width, string[]? zoom = null, string? search = null) =>
        (await graphql.DataAsync(View, new { r = new { taskId, instanceIds = Array.Empty<string>() }, zoom = zoom ?? [], width, search }))["queryPprofFlameView"]!;
}
