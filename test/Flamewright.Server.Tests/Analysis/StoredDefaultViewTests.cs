using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Flamewright.Pprof.Analysis;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Analysis;

namespace Flamewright.Server.Tests.Analysis;

/// <summary>
/// A finished task's default view is kept in storage once built, with its first look, so a restarted server answers the
/// first look without reading any upload or the tree; a new upload drops them; a kept view or first look that does not
/// read is built again or read from the tree, never served.
/// </summary>
public sealed class StoredDefaultViewTests
{
    private static readonly string Analysis = typeof(AnalysisService).FullName!;

    private const string Look = """
        query ($r: PprofAnalyzationRequest!) {
          queryPprofFlameView(request: $r, width: 1200) { sampleType { type isDefault } total frames { name total } }
          queryPprofTop(request: $r, limit: 5) { total rows { name flat cum } }
        }
        """;

    private const string FullView = """
        query ($r: PprofAnalyzationRequest!, $w: Int!) {
          queryPprofFlameView(request: $r, width: $w) { span minTotal frames { node parent name total self } narrower { parent count total } }
        }
        """;

    /// <summary>The rows of task_views that hold a tree, and those that hold its first look.</summary>
    private const string TreeRow = "view_key NOT LIKE '%/first-look'";
    private const string FirstLookRow = "view_key LIKE '%/first-look'";

    [Fact(Timeout = Spec.Timeout)]
    public Task A_restarted_server_answers_the_default_view_from_storage_without_reading_an_upload() => Spec.Run(async () =>
    {
        byte[][] profiles = [TestData.Bytes("heap"), TestData.Bytes("heap-a")];
        (TestServer server, string taskId) = await KeptThenRestartedAsync("HEAP", profiles);
        try
        {
            // Behind the new server's back, no upload can be read any more: neither profile nor digest.
            await server.DatabaseAsync("UPDATE uploads SET profile = X'00', digest = X'00'");

            using GraphQLClient again = server.GraphQL();
            JsonNode look = await again.DataAsync(Look, new { r = new { taskId, instanceIds = Array.Empty<string>() } });

            FlameTree expected = Engine.Tree(new FlameOptions { SampleType = "inuse_space" }, profiles);
            TopTable top = TopTable.Build(expected);
            Assert.Equal(expected.Total, (long)look["queryPprofFlameView"]!["total"]!);
            Assert.Equal(("inuse_space", true), ((string)look["queryPprofFlameView"]!["sampleType"]!["type"]!, (bool)look["queryPprofFlameView"]!["sampleType"]!["isDefault"]!));
            Assert.Equal(FlameView.Build(expected, [], 1200).Frames.Select(f => (f.Name, f.Total)),
                look["queryPprofFlameView"]!["frames"]!.AsArray().Select(f => ((string)f!["name"]!, (long)f["total"]!)));
            Assert.Equal(top.Entries.Take(5).Select(e => (e.Name, e.Flat, e.Cum)),
                look["queryPprofTop"]!["rows"]!.AsArray().Select(r => ((string)r!["name"]!, (long)r["flat"]!, (long)r["cum"]!)));
            Assert.Equal(top.AbsoluteTotal, (long)look["queryPprofTop"]!["total"]!);
        }
        finally
        {
            await server.DisposeAsync();
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_restarted_server_answers_a_first_look_at_any_width_from_the_kept_first_look_without_reading_the_tree() => Spec.Run(async () =>
    {
        byte[] profile = TestData.Bytes("cpu");
        (TestServer server, string taskId) = await KeptThenRestartedAsync("CPU", profile);
        try
        {
            // Behind the new server's back, neither the uploads nor the kept tree can be read: only the first look.
            await server.DatabaseAsync("UPDATE uploads SET profile = X'00', digest = X'00'");
            await server.DatabaseAsync($"UPDATE task_views SET view = X'00' WHERE {TreeRow}");

            using GraphQLClient again = server.GraphQL();
            FlameTree expected = Engine.Tree(new FlameOptions { SampleType = "cpu" }, profile);
            foreach (int width in new[] { 1400, 333, 7 })
            {
                JsonNode view = (await again.DataAsync(FullView, new { r = new { taskId, instanceIds = Array.Empty<string>() }, w = width }))["queryPprofFlameView"]!;

                FlameView built = FlameView.Build(expected, [], width);
                Assert.Equal(built.Frames.Select(f => (f.Node, f.Parent, f.Name, f.Total, f.Self)),
                    view["frames"]!.AsArray().Select(f => ((int)f!["node"]!, (int)f["parent"]!, (string)f["name"]!, (long)f["total"]!, (long)f["self"]!)));
                Assert.Equal(built.Narrower.Select(n => (n.Parent, n.Count, n.Total)),
                    view["narrower"]!.AsArray().Select(n => ((int)n!["parent"]!, (int)n["count"]!, (long)n["total"]!)));
                Assert.Equal((built.MinimumTotal, built.Span), ((long)view["minTotal"]!, (long)view["span"]!));
            }

            JsonNode top = (await again.DataAsync(Look, new { r = new { taskId, instanceIds = Array.Empty<string>() } }))["queryPprofTop"]!;
            Assert.Equal(TopTable.Build(expected).Entries.Take(5).Select(e => (e.Name, e.Flat, e.Cum)),
                top["rows"]!.AsArray().Select(r => ((string)r!["name"]!, (long)r["flat"]!, (long)r["cum"]!)));
        }
        finally
        {
            await server.DisposeAsync();
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task After_a_first_look_from_storage_the_tree_is_read_ahead_so_that_a_zoom_builds_nothing() => Spec.Run(async () =>
    {
        byte[] profile = TestData.Bytes("cpu");
        (TestServer server, string taskId) = await KeptThenRestartedAsync("CPU", profile);
        try
        {
            await server.DatabaseAsync("UPDATE uploads SET profile = X'00', digest = X'00'");
            var analysis = server.Server.Services.GetRequiredService<AnalysisService>();
            using GraphQLClient again = server.GraphQL();
            var request = new { taskId, instanceIds = Array.Empty<string>() };

            await again.DataAsync(Look, new { r = request });
            // The first look and its table are cached; the tree joins them once read.
            await Eventually.HoldsAsync(() => analysis.CachedResults == 3, "the tree is read ahead", TimeSpan.FromSeconds(30));
            await server.DatabaseAsync("DELETE FROM task_views");

            FlameTree expected = Engine.Tree(new FlameOptions { SampleType = "cpu" }, profile);
            string child = expected.NameOf(expected.ChildrenOf(0).First().Index);
            JsonNode zoomed = await again.DataAsync(
                "query ($r: PprofAnalyzationRequest!, $z: [String!]) { queryPprofFlameView(request: $r, zoom: $z, width: 900) { frames { name total } } }",
                new { r = request, z = new[] { child } });
            Assert.Equal(FlameView.Build(expected, [child], 900).Frames.Select(f => (f.Name, f.Total)),
                zoomed["queryPprofFlameView"]!["frames"]!.AsArray().Select(f => ((string)f!["name"]!, (long)f["total"]!)));
        }
        finally
        {
            await server.DisposeAsync();
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_first_look_that_does_not_read_is_answered_from_the_kept_tree_instead() => Spec.Run(async () =>
    {
        byte[] profile = TestData.Bytes("cpu");
        (TestServer server, string taskId) = await KeptThenRestartedAsync("CPU", profile);
        try
        {
            await server.DatabaseAsync("UPDATE uploads SET profile = X'00', digest = X'00'");
            await server.DatabaseAsync($"UPDATE task_views SET view = X'4657464C01000000' WHERE {FirstLookRow}");

            using GraphQLClient again = server.GraphQL();
            JsonNode view = (await again.DataAsync(FullView, new { r = new { taskId, instanceIds = Array.Empty<string>() }, w = 900 }))["queryPprofFlameView"]!;

            Assert.Equal(FlameView.Build(Engine.Tree(new FlameOptions { SampleType = "cpu" }, profile), [], 900).Frames.Select(f => (f.Name, f.Total)),
                view["frames"]!.AsArray().Select(f => ((string)f!["name"]!, (long)f["total"]!)));
            Assert.Contains(server.Logs.Entries, e => e.Category == Analysis && e.Event.Id == 509);
        }
        finally
        {
            await server.DisposeAsync();
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_new_upload_drops_the_kept_view_and_the_next_one_is_of_the_new_uploads() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, TestData.Bytes("heap")));
        await server.Logs.WaitForAsync(Analysis, 506, TimeSpan.FromSeconds(30));
        string firstKey = (string)(await server.DatabaseAsync($"SELECT view_key FROM task_views WHERE {TreeRow}"))!;

        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, TestData.Bytes("heap-b")));

        await Eventually.HoldsAsync(async () => (string?)await server.DatabaseAsync($"SELECT view_key FROM task_views WHERE {TreeRow}") is string key && key != firstKey,
            "the view of the new upload replaces the first", TimeSpan.FromSeconds(30));
        Assert.Equal(2L, await server.DatabaseAsync("SELECT COUNT(*) FROM task_views"));
        Assert.Equal(1L, await server.DatabaseAsync($"SELECT COUNT(*) FROM task_views WHERE {FirstLookRow}"));
        Assert.Equal(Engine.Total(TestData.Bytes("heap-b"), "inuse_space"), await graphql.AnalyzedTotalAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_kept_view_that_does_not_read_is_built_again_from_the_uploads() => Spec.Run(async () =>
    {
        byte[] profile = TestData.Bytes("cpu");
        (TestServer server, string taskId) = await KeptThenRestartedAsync("CPU", profile);
        try
        {
            await server.DatabaseAsync("UPDATE task_views SET view = X'4657545201000000'");

            using GraphQLClient again = server.GraphQL();
            Assert.Equal(Engine.Total(profile, "cpu"), await again.AnalyzedTotalAsync(taskId));

            Assert.Contains(server.Logs.Entries, e => e.Category == Analysis && e.Event.Id == 509);
        }
        finally
        {
            await server.DisposeAsync();
        }
    });

    /// <summary>
    /// A server that received a task of <paramref name="eventName"/> with one instance per profile, kept its default view,
    /// and was then restarted: the state of a finished task that a fresh process or another node meets.
    /// </summary>
    private static async Task<(TestServer Server, string TaskId)> KeptThenRestartedAsync(string eventName, params byte[][] profiles)
    {
        TestServer server = await TestServer.StartAsync();
        try
        {
            GoLikeAgent[] agents = [.. profiles.Select((_, i) => server.Agent("go-service", $"provider{i + 1}"))];
            string taskId;
            using (GraphQLClient graphql = server.GraphQL())
            {
                taskId = await graphql.TaskWithUploadsAsync(eventName, [.. agents.Zip(profiles)]);
            }

            foreach (GoLikeAgent agent in agents)
            {
                agent.Dispose();
            }

            await server.Logs.WaitForAsync(Analysis, 506, TimeSpan.FromSeconds(30));
            return (await server.RestartAsync(), taskId);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }
}
